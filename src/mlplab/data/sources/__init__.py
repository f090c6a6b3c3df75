"""Users' own data, named where a dataset is named: `folder:PATH`, `csv:PATH`, `npz:PATH`, `hf:PATH`.

Each source decodes into the same RawData the registered datasets return (pixels in [0, 1], labels, class
names), so every experiment, the sweep, the API and the gallery take it unchanged. Decoded images and CSV
tables are kept in the decoded cache (see `cache`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mlplab.data.core import RawData
from mlplab.data.sources.base import Decoded, resolve_path, to_raw
from mlplab.errors import UserError

log = logging.getLogger("mlplab")


@dataclass(frozen=True)
class SourceKind:
    description: str
    example: str


SOURCES = {
    "folder": SourceKind(
        "a folder of images, one subfolder per class (optional train/ and test/)", "dataset=folder:~/pets"
    ),
    "csv": SourceKind(
        "a CSV of label + one column per pixel (Kaggle's MNIST layout), or a folder of *train.csv and *test.csv",
        "dataset=csv:~/kaggle/fashion-mnist",
    ),
    "npz": SourceKind("an .npz with x_train, y_train, x_test, y_test (and classes)", "dataset=npz:data/arrays.npz"),
    "hf": SourceKind(
        "a Hugging Face dataset on disk: a save_to_disk folder or the Hub's parquet files", "dataset=hf:~/hf/mnist"
    ),
}


def is_source(name: str) -> bool:
    """Whether a dataset name is a `kind:PATH` source rather than a registered dataset."""
    return ":" in name


def split_source(name: str) -> tuple[str, str]:
    kind, _, path = name.partition(":")
    if kind not in SOURCES:
        raise UserError(
            f"unknown data source {kind + ':'!r} in dataset={name!r}; choose one of "
            f"{', '.join(k + ':PATH' for k in SOURCES)}, or a registered dataset (see `mlplab list`)"
        )
    return kind, path


def decode_source(name: str, *, image_size: int = 0, skip_bad: bool = False) -> tuple[Decoded, Path, bool]:
    """(decoded examples, resolved path, whether they came from the decoded cache) of `kind:PATH`."""
    from mlplab.data.sources import arrays, folder, hf, table

    kind, text = split_source(name)
    path = resolve_path(kind, text)
    what = name
    if kind == "folder":
        d, hit = folder.load_folder(path, what, image_size, skip_bad)
    elif kind == "csv":
        d, hit = table.load_csv(path, what)
    elif kind == "npz":
        d, hit = arrays.load_npz(path, what)
    else:
        d, hit = hf.load_hf(path, what, image_size, skip_bad)
    return d, path, hit


def load_source(
    name: str, *, seed: int = 0, test_size: float = 0.2, image_size: int = 0, skip_bad: bool = False
) -> RawData:
    """RawData of `kind:PATH`: decoded (or read from the cache), checked, the test split drawn where it has none."""
    d, _, _ = decode_source(name, image_size=image_size, skip_bad=skip_bad)
    for note in d.notes:
        log.warning(f"{name}: {note}")
    return to_raw(d, name, seed, test_size)


__all__ = ["SOURCES", "Decoded", "decode_source", "is_source", "load_source", "split_source"]
