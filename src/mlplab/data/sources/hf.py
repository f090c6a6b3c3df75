"""`hf:PATH`: a Hugging Face dataset on disk, read offline: a folder written by `save_to_disk` (read with the
`datasets` library), or parquet files as the Hub stores them (`data/train-00000-of-00001.parquet`, ...; read
with pyarrow).

The image column is the first of the `Image` feature (else one named image, img, pixel_values or pixels); the
label column the first `ClassLabel` (else one named label, labels, fine_label, target or y), whose names
become the class names. Splits other than train and test are ignored (and said so); without a test split, one
is drawn with the seed. Images are decoded as in `folder:` sources, in parallel, and kept in the decoded cache.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.data.sources.base import Decoded, check_classes, check_labels, check_memory
from mlplab.data.sources.cache import cached, file_key
from mlplab.data.sources.decode import decode_images, peek
from mlplab.errors import UserError

IMAGE_NAMES = ("image", "img", "pixel_values", "pixels")
LABEL_NAMES = ("label", "labels", "fine_label", "target", "y")
SPLIT_OF_FILE = re.compile(r"^([A-Za-z]+)(?:[-_.]|$)")
SPLITS = ("train", "test", "validation", "valid", "val", "dev")  # how the Hub names split files and folders


def _need(module: str, what: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise UserError(
            f"{what}: reading Hugging Face datasets needs the `datasets` and `pyarrow` packages; install them with "
            "`pip install 'mlplab[data]'`"
        ) from None


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]


def _tables(path: Path, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """({split: pyarrow table}, features as a dict) of a save_to_disk folder or of parquet files."""
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        datasets = _need("datasets", what)
        try:
            loaded = datasets.load_from_disk(str(path))
        except Exception as exc:  # damaged arrow files, missing shards, another library version
            raise UserError(f"{what}: {path} cannot be read by datasets.load_from_disk ({exc})") from None
        parts = dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
        features = next(iter(parts.values())).features.to_dict() if parts else {}
        return {s: d.data.table for s, d in parts.items()}, features
    pq = _need("pyarrow.parquet", what)
    pa = _need("pyarrow", what)
    found = [p for p in _files(path) if p.suffix == ".parquet"]
    if not found:
        raise UserError(
            f"{what}: {path} holds neither a save_to_disk dataset (dataset_dict.json or state.json) nor .parquet "
            "files; give the folder save_to_disk wrote, or the Hub's parquet files"
        )
    by_split: dict[str, list[Any]] = {}
    features: dict[str, Any] = {}
    for p in found:
        m = SPLIT_OF_FILE.match(p.name)
        named = [w for w in (p.parent.name.lower(), m.group(1).lower() if m else "") if w in SPLITS]
        split = named[0] if named else "train"  # a lone data.parquet is the training split
        try:
            table = pq.read_table(p)
        except Exception as exc:
            raise UserError(f"{what}: {p} is not a readable parquet file ({exc})") from None
        meta = (table.schema.metadata or {}).get(b"huggingface")
        if meta and not features:
            features = json.loads(meta).get("info", {}).get("features", {})
        by_split.setdefault(split, []).append(table)
    return {s: pa.concat_tables(t) for s, t in by_split.items()}, features


def _column(table: Any, features: dict[str, Any], kind: str, names: tuple[str, ...], what: str) -> str:
    typed = [c for c in table.column_names if isinstance(features.get(c), dict) and features[c].get("_type") == kind]
    named = [c for c in table.column_names if c.lower() in names]
    if typed or named:
        return (typed or named)[0]
    raise UserError(
        f"{what}: no {'image' if kind == 'Image' else 'label'} column among {', '.join(table.column_names)}; "
        f"expected a {kind} feature or a column named {names[0]}"
    )


def _sources(column: Any, name: str, root: Path, what: str) -> list[bytes | str]:
    """Encoded bytes (or the file path where the bytes are absent) of each image of an Image column."""
    values = column.combine_chunks()
    kinds = [values.type.field(i).name for i in range(values.type.num_fields)] if hasattr(values, "field") else []
    if "bytes" not in kinds:
        raise UserError(
            f"{what}: column {name!r} holds {values.type}, not encoded images (an Image feature); store the images "
            "with datasets.Image(), or export the arrays with numpy.savez for an npz: source"
        )
    data = values.field("bytes").to_pylist()
    paths = values.field("path").to_pylist() if "path" in kinds else [None] * len(data)
    return [b if b is not None else str(root / p) if p else b"" for b, p in zip(data, paths, strict=True)]


def decode_hf(path: Path, side: int, skip_bad: bool, what: str) -> Decoded:
    tables, features = _tables(path, what)
    notes = [f"split {s!r} ({t.num_rows:,} rows) was ignored" for s, t in tables.items() if s not in ("train", "test")]
    if "train" not in tables:
        raise UserError(f"{what}: {path} has no train split (it has {', '.join(tables)}); mlplab trains on 'train'")
    first = tables["train"]
    image_col = _column(first, features, "Image", IMAGE_NAMES, what)
    label_col = _column(first, features, "ClassLabel", LABEL_NAMES, what)
    splits = [s for s in ("train", "test") if s in tables]
    sources, names, split_of, labels = [], [], [], []
    for s in splits:
        t = tables[s]
        if image_col not in t.column_names or label_col not in t.column_names:
            raise UserError(f"{what}: split {s!r} lacks the column {image_col!r} or {label_col!r}")
        sources += _sources(t.column(image_col), image_col, path, what)
        names += [f"{s}[{i}]" for i in range(t.num_rows)]
        split_of += [s] * t.num_rows
        labels.append(check_labels(np.asarray(t.column(label_col).to_numpy(zero_copy_only=False)), f"{what}: {s}"))
    y = np.concatenate(labels)
    head = peek(sources[0]) if sources else None
    if head:
        check_memory(what, len(sources), (head[0], side or head[1], side or head[2]), "give a smaller image_size=")
    arrays = decode_images(sources, names, split_of, y, side, skip_bad, what, notes)
    names_feature = features.get(label_col, {})
    classes = [str(c) for c in names_feature.get("names", [])] or [str(c) for c in range(int(y.max(initial=0)) + 1)]
    x_test, y_test, names_test = arrays.get("test", (None, None, None))
    x_train, y_train, names_train = arrays["train"]
    d = Decoded(x_train, y_train, x_test, y_test, classes, "", notes, names_train, names_test)
    check_classes(d, what)  # before the cache keeps it
    return d


def load_hf(path: Path, what: str, side: int, skip_bad: bool) -> tuple[Decoded, bool]:
    files = _files(path)
    key = file_key((os.path.relpath(p, path) if path.is_dir() else p.name, p.stat()) for p in files)
    options = {"image_size": side, "skip_bad": skip_bad}
    d, hit = cached("hf", path, options, key, lambda: decode_hf(path, side, skip_bad, what))
    d.fingerprint = "hf-" + key
    return d, hit
