"""`csv:PATH`: a label column and one column per pixel (the MNIST / Fashion-MNIST CSVs people download from
Kaggle), with a header row or without.

PATH is one file (a test split is then drawn with the seed) or a folder holding one file whose name ends in
`train.csv` and one ending in `test.csv`. The label column is the one headed `label`, else the first. Pixels
are 0-255 (integers, or floats; a file whose values are all in [0, 1] with fractions is read as 0-1). The
image side comes from the column count: D pixels make a grey sqrt(D) x sqrt(D) image, or a colour one
(three planes, R then G then B, as in CIFAR-10's arrays) when D / 3 is a square; any other D gives
feature vectors of D values.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from mlplab.data.sources.base import Decoded, check_classes, check_memory
from mlplab.data.sources.cache import cached, file_key
from mlplab.errors import UserError

LABEL_NAMES = ("label", "labels", "class", "target", "y")
SAMPLE_BYTES = 1 << 16  # read to guess the row count for the memory estimate


def find_files(path: Path, what: str) -> dict[str, Path]:
    """{"train": file} for one file, or {"train": ..., "test": ...} for a folder of *train.csv and *test.csv."""
    if path.is_file():
        return {"train": path}
    found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(".csv"))
    parts = {}
    for split in ("train", "test"):
        matches = [p for p in found if p.name.lower().endswith(f"{split}.csv")]
        if len(matches) != 1:
            listed = ", ".join(p.name for p in found) or "no .csv files"
            problem = "no file" if not matches else f"{len(matches)} files"
            raise UserError(
                f"{what}: {path} holds {problem} whose name ends in {split}.csv (it holds: {listed}); give a folder "
                "with one *train.csv and one *test.csv, or a single file (its test split is then drawn)"
            )
        parts[split] = matches[0]
    return parts


def _header(path: Path, what: str) -> tuple[bool, int, int]:
    """(has a header row, label column, columns) from the first line."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = next(csv.reader(fh), None)
    if not first:
        raise UserError(f"{what}: {path} is empty; give a CSV with a label column and one column per pixel")
    cells = [c.strip() for c in first]
    header = not all(_is_number(c) for c in cells)
    names = [c.lower() for c in cells]
    label = next((names.index(n) for n in LABEL_NAMES if header and n in names), 0)
    if len(cells) < 2:
        raise UserError(f"{what}: {path} has {len(cells)} column; expected a label column and one column per pixel")
    return header, label, len(cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _estimate(path: Path, header: bool, columns: int, what: str) -> None:
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    lines = sample.count(b"\n") - int(header)
    rows = path.stat().st_size / (len(sample) / max(lines, 1))
    check_memory(what, int(rows), (columns,), "use a smaller CSV, or split it into parts")


def _first_problem(path: Path, header: bool, what: str) -> UserError | None:
    """The first ragged row or non-numeric cell, named by line and column (read slowly, only after a failure)."""
    width = None
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line, row in enumerate(csv.reader(fh), 1):
            if (header and line == 1) or not row:
                width = len(row) if header and line == 1 else width
                continue
            width = width or len(row)
            if len(row) != width:
                return UserError(
                    f"{what}: {path} line {line} has {len(row)} cells where the first row has {width}; every row "
                    "needs a label and the same number of pixel values"
                )
            for col, cell in enumerate(row, 1):
                if not _is_number(cell.strip()):
                    return UserError(
                        f"{what}: {path} line {line}, column {col}: {cell[:40]!r} is not a number; every cell must "
                        "be a number (the label, and pixel values 0-255)"
                    )
    return None


def read_table(path: Path, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(labels (N,), values (N, D), line of the first data row) of one CSV file, every cell checked."""
    header, label, columns = _header(path, what)
    _estimate(path, header, columns, what)
    values = None
    for dtype in (np.int64, np.float64):  # integers parse eight times faster; fractions need the second pass
        try:
            values = np.loadtxt(path, delimiter=",", skiprows=int(header), dtype=dtype, ndmin=2, comments=None,
                                encoding="utf-8-sig")  # fmt: skip
            break
        except ValueError as exc:
            if dtype is np.int64 and "could not convert" in str(exc):
                continue
            problem = _first_problem(path, header, what)
            raise problem or UserError(f"{what}: {path} cannot be read as numbers ({exc})") from None
    if values is None or not len(values):
        raise UserError(f"{what}: {path} has no data rows; give one row per example: label, pixel values")
    y = values[:, label]
    x = np.delete(values, label, axis=1)
    return y, x, 1 + int(header)


def _check(y: np.ndarray, x: np.ndarray, first: int, path: Path, what: str) -> np.ndarray:
    bad = ~np.isfinite(y) | (y != np.round(y)) | (y < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise UserError(
            f"{what}: {path} line {first + i}: label {y[i]:g} is not a class index (an integer 0, 1, ...); fix the "
            "label column"
        )
    outside = ~np.isfinite(x) | (x < 0) | (x > 255)
    if outside.any():
        i, j = np.unravel_index(int(np.argmax(outside)), x.shape)
        raise UserError(
            f"{what}: {path} line {first + i}: pixel value {x[i, j]:g} (pixel {j}) is outside 0-255; pixel values "
            "must be 0-255"
        )
    return y.astype(np.int64)


def _pixels(parts: list[np.ndarray]) -> list[np.ndarray]:
    """uint8 when every value is a whole number 0-255; else float32 in [0, 1] (0-1 files kept, 0-255 scaled)."""
    if all(p.dtype.kind == "i" or (p == np.round(p)).all() for p in parts):
        return [p.astype(np.uint8) for p in parts]
    top = max(float(p.max(initial=0)) for p in parts)
    return [(p if top <= 1 else p / 255).astype(np.float32) for p in parts]


def example_shape(d: int) -> tuple[int, ...]:
    """(1, s, s) when d = s^2, (3, s, s) when d = 3 s^2, else (d,) feature vectors."""
    for channels in (1, 3):
        side = math.isqrt(d // channels)
        if d % channels == 0 and side * side * channels == d and side > 1:
            return (channels, side, side)
    return (d,)


def decode_tables(files: dict[str, Path], what: str) -> Decoded:
    read = {split: read_table(p, what) for split, p in files.items()}
    widths = {split: x.shape[1] for split, (_, x, _) in read.items()}
    if len(set(widths.values())) > 1:
        raise UserError(
            f"{what}: {files['train'].name} has {widths['train']} pixel columns and {files['test'].name} "
            f"{widths['test']}; both files need the same columns"
        )
    labels = {split: _check(y, x, first, files[split], what) for split, (y, x, first) in read.items()}
    splits = list(read)
    xs = dict(zip(splits, _pixels([read[s][1] for s in splits]), strict=True))
    shape = example_shape(widths["train"])
    k = max(int(y.max(initial=0)) for y in labels.values()) + 1
    d = Decoded(
        x_train=xs["train"].reshape(-1, *shape),
        y_train=labels["train"],
        x_test=xs["test"].reshape(-1, *shape) if "test" in xs else None,
        y_test=labels.get("test"),
        classes=[str(c) for c in range(k)],
    )
    check_classes(d, what)  # before the cache keeps it
    return d


def load_csv(path: Path, what: str) -> tuple[Decoded, bool]:
    """The examples of a CSV source, from the decoded cache when its files have not changed."""
    files = find_files(path, what)
    key = file_key((f"{split}/{p.name}", p.stat()) for split, p in files.items())
    d, hit = cached("csv", path, {}, key, lambda: decode_tables(files, what))
    d.fingerprint = "csv-" + key
    return d, hit
