"""The decoded cache: a source's decoded arrays in one .npz, found again by a key of the files' names, sizes
and modification times (and the options that change the decoding), so a second load skips decoding.

Entries live in `decoded/` of the data folder ($MLPLAB_DATA, else ~/.cache/mlplab/data). They are written
to a temporary file and renamed into place, read without pickle, and a damaged one is decoded again. One
entry is kept per source path and options: a newer one replaces it. A folder that cannot be written only
costs the next load its speed (a warning says so).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from mlplab.data.core import default_data_dir
from mlplab.data.sources.base import Decoded

VERSION = 1  # bump when decoding changes, so old entries are not reused
log = logging.getLogger("mlplab")


def cache_dir() -> Path:
    return default_data_dir() / "decoded"


def digest(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def file_key(files: Iterable[tuple[str, os.stat_result]]) -> str:
    """A hash of (name, size, modification time) of each file: what the cache is keyed by."""
    h = hashlib.sha256()
    for name, st in files:
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def _read(path: Path) -> Decoded | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            has_test = "x_test" in z.files
            return Decoded(
                x_train=z["x_train"],
                y_train=z["y_train"],
                x_test=z["x_test"] if has_test else None,
                y_test=z["y_test"] if has_test else None,
                classes=[str(c) for c in z["classes"]],
                fingerprint=str(z["fingerprint"]),
                notes=[str(n) for n in z["notes"]],
                names_train=[str(n) for n in z["names_train"]] if "names_train" in z.files else None,
                names_test=[str(n) for n in z["names_test"]] if "names_test" in z.files else None,
            )
    except Exception:  # missing, torn or from another version: decode again
        return None


def _write(path: Path, d: Decoded) -> None:
    arrays = {
        "x_train": d.x_train,
        "y_train": d.y_train,
        "classes": np.array(d.classes, dtype=str),
        "fingerprint": np.array(d.fingerprint),
        "notes": np.array(d.notes, dtype=str),
    }
    if d.x_test is not None:
        arrays |= {"x_test": d.x_test, "y_test": d.y_test}
    for part in ("names_train", "names_test"):
        if getattr(d, part) is not None:
            arrays[part] = np.array(getattr(d, part), dtype=str)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # named before it exists, made inside the try: an interrupt as the file is created cannot orphan it
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "xb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        log.warning(f"cannot write the decoded cache in {path.parent} ({exc.strerror}); the next run decodes again")
        return
    for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.npz"):  # the older entries of this source
        if old != path:
            old.unlink(missing_ok=True)


def cached(kind: str, source: Path, options: dict, key: str, build: Callable[[], Decoded]) -> tuple[Decoded, bool]:
    """The decoded data of `source` under `key` from the cache, else `build()` and keep it; (data, was_cached)."""
    slot = digest({"source": str(source), "options": options, "version": VERSION})[:12]
    path = cache_dir() / f"{kind}-{slot}-{digest([key, options, VERSION])}.npz"
    hit = _read(path) if path.is_file() else None
    if hit is not None:
        return hit, True
    d = build()
    _write(path, d)
    return d, False
