"""`npz:PATH`: an .npz with x_train, y_train, x_test, y_test and optionally classes (the class names).

Inputs are uint8 pixels 0-255 or floats in [0, 1], shaped (N, H, W), (N, H, W, C), (N, C, H, W) or (N, D) for
feature vectors; a 4-D array is channels-last when its last axis has 1, 3 or 4 entries and its second axis
does not, or more; else channels-first. Labels are class indices 0, 1, ... . The file is read without pickle.
It is not copied into the decoded cache (reading it is as fast as reading the cache); its content hash names
the data.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from mlplab.data.sources.base import Decoded, check_labels, check_memory, check_values
from mlplab.errors import UserError

NAMES = ("x_train", "y_train", "x_test", "y_test")
CHANNELS = (1, 3, 4)


def content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()[:24]


def _headers(path: Path, what: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array, from the .npy headers alone (nothing loaded)."""
    try:
        with zipfile.ZipFile(path) as z:
            out = {}
            for name in z.namelist():
                with z.open(name) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read(fh)
                out[name.removesuffix(".npy")] = (shape, dtype)
            return out
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise UserError(f"{what}: {path} is not a readable .npz ({exc}); save it with numpy.savez") from None


def _images(x: np.ndarray, name: str, what: str) -> np.ndarray:
    """(N, C, H, W) for image arrays, (N, D) for feature vectors."""
    if x.ndim == 2:
        return x
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4:
        if x.shape[3] in CHANNELS and (x.shape[1] not in CHANNELS or x.shape[3] <= x.shape[1]):
            return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if x.shape[1] in CHANNELS:
            return x
    raise UserError(
        f"{what}: {name} has shape {x.shape}; expected (N, H, W), (N, H, W, C), (N, C, H, W) with C in 1, 3, 4, "
        "or (N, D) feature vectors"
    )


def decode_npz(path: Path, what: str) -> Decoded:
    heads = _headers(path, what)
    missing = [n for n in NAMES if n not in heads]
    if missing:
        raise UserError(
            f"{what}: {path} lacks {', '.join(missing)}; it needs arrays named {', '.join(NAMES)} "
            "(and optionally classes): numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
        )
    n = heads["x_train"][0][0] + heads["x_test"][0][0] if heads["x_train"][0] and heads["x_test"][0] else 0
    check_memory(what, n, tuple(heads["x_train"][0][1:]), "use fewer examples or smaller images")
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {name: z[name] for name in (*NAMES, "classes") if name in heads}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise UserError(
                f"{what}: {path} holds Python objects (pickled), which mlplab does not load; save plain numeric "
                "arrays, and class names as a string array"
            ) from None
        raise UserError(f"{what}: {path} cannot be read ({exc}); save it again with numpy.savez") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{what}: {path} is truncated or damaged ({exc}); save it again with numpy.savez") from None
    for split in ("train", "test"):
        x, y = a[f"x_{split}"], a[f"y_{split}"]
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
            raise UserError(
                f"{what}: x_{split} has shape {x.shape} and y_{split} {y.shape}; expected N examples and N labels"
            )
        check_values(x, f"{what}: x_{split}")
    xs = {s: _images(a[f"x_{s}"], f"x_{s}", what) for s in ("train", "test")}
    if xs["train"].shape[1:] != xs["test"].shape[1:]:
        raise UserError(
            f"{what}: x_train holds examples of shape {xs['train'].shape[1:]} and x_test {xs['test'].shape[1:]}; "
            "both need the same shape"
        )
    ys = {s: check_labels(a[f"y_{s}"], f"{what}: y_{s}") for s in ("train", "test")}
    if "classes" in a:
        if a["classes"].ndim != 1:
            raise UserError(f"{what}: classes has shape {a['classes'].shape}; expected one name a class")
        classes = [str(c) for c in a["classes"]]
    else:
        classes = [str(c) for c in range(max(int(y.max(initial=0)) for y in ys.values()) + 1)]
    return Decoded(xs["train"], ys["train"], xs["test"], ys["test"], classes, fingerprint="npz-" + content_hash(path))


def load_npz(path: Path, what: str) -> tuple[Decoded, bool]:
    if path.is_dir():
        raise UserError(f"{what}: {path} is a folder; give an .npz file (folder: reads a folder of images)")
    return decode_npz(path, what), False
