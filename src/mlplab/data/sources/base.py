"""What every source of users' own data yields before splitting, the checks they share, and RawData from it."""

from __future__ import annotations

import errno
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mlplab.data.core import RawData
from mlplab.errors import UserError

# Peak bytes per stored value while a dataset is loaded: the decoded uint8 copy, then float32 pixels, the
# training rows taken from them and their normalised copy (load_dataset), so 1 + 3 x 4.
BYTES_PER_VALUE = 13
MAX_DEFAULT_VAL = 5000  # validation examples taken from train by default (MNIST's 5,000 of 60,000)


@dataclass
class Decoded:
    """A source's examples as stored: uint8 pixels 0-255 or float32 values in [0, 1], before any split.

    `x_test` is None when the source has no test split of its own: one is then drawn with the seed.
    """

    x_train: np.ndarray  # (N, C, H, W) images or (N, D) features
    y_train: np.ndarray  # (N,) int64 class indices
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    classes: list[str]
    fingerprint: str = ""  # names the data's content (cache keys of models trained on it), not its path
    notes: list[str] = field(default_factory=list)  # what was ignored or skipped, one line each
    names_train: list[str] | None = None  # where each example came from (file names), when known
    names_test: list[str] | None = None


def resolve_path(kind: str, text: str) -> Path:
    """PATH of `kind:PATH` (absolute, or relative to the current folder; `~` expanded), which must exist."""
    if not text.strip():
        raise UserError(f"dataset={kind}: names no path; give one, e.g. dataset={kind}:~/my-data")
    path = Path(text).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"{kind}:{text}: {path} is a symlink loop (it leads back to itself); fix the link") \
                from None  # fmt: skip
        if exc.errno == errno.ENOENT:
            raise UserError(
                f"{kind}:{text}: {path} does not exist; give an existing path (absolute, or relative to {Path.cwd()})"
            ) from None
        raise UserError(f"{kind}:{text}: cannot read {path} ({exc.strerror}); check its permissions") from None
    return path


def available_memory() -> int | None:
    """Bytes the machine can still give this process (MemAvailable on Linux), else its physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def gigabytes(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def check_memory(what: str, n: int, shape: tuple[int, ...], fix: str) -> None:
    """Refuse, before decoding, a dataset of `n` examples of `shape` that the machine cannot hold."""
    need = n * math.prod(shape) * BYTES_PER_VALUE
    have = available_memory()
    if have is not None and need > have:
        dims = "x".join(str(s) for s in shape)
        raise UserError(
            f"{what}: {n:,} examples of {dims} need about {gigabytes(need)} of memory to load, and the machine "
            f"has {gigabytes(have)} available; {fix}"
        )


def check_labels(y: np.ndarray, what: str) -> np.ndarray:
    """Labels as int64 class indices: integers >= 0, one a row."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise UserError(f"{what}: labels have shape {y.shape}; expected one label a row, shape (N,)")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise UserError(f"{what}: label {y[i]!r} (row {i}) is not an integer; labels are class indices 0, 1, ...")
    elif y.dtype.kind not in "iub":
        raise UserError(f"{what}: labels are {y.dtype}, not integers; labels are class indices 0, 1, ...")
    if y.size and y.min() < 0:
        i = int(np.argmin(y))
        raise UserError(f"{what}: label {y[i]} (row {i}) is negative; labels are class indices 0, 1, ...")
    return y.astype(np.int64)


def check_classes(d: Decoded, what: str) -> None:
    """At least two classes, each with training examples; the test split has no class that training lacks."""
    k = len(d.classes)
    labels = [y for y in (d.y_train, d.y_test) if y is not None]
    top = max((int(y.max()) for y in labels if y.size), default=-1)
    if top >= k:
        raise UserError(f"{what}: label {top} has no class name ({k} classes: {', '.join(d.classes)}); fix the labels")
    if k < 2:
        names = ", ".join(d.classes) or "none"
        raise UserError(f"{what}: has a single class ({names}); a classifier needs two or more classes")
    seen = np.bincount(d.y_train, minlength=k)
    if d.y_test is not None:
        tested = np.bincount(d.y_test, minlength=k)
        lacking = [d.classes[c] for c in range(k) if tested[c] and not seen[c]]
        if lacking:
            raise UserError(
                f"{what}: the test split has classes the training split lacks ({', '.join(lacking[:5])}); "
                "add training examples of them, or remove them from the test split"
            )
    empty = [d.classes[c] for c in range(k) if not seen[c]]
    if empty:
        raise UserError(
            f"{what}: class {empty[0]!r} has no training examples; add some, or remove the class"
            + (f" ({len(empty)} such classes)" if len(empty) > 1 else "")
        )


def check_values(x: np.ndarray, what: str) -> None:
    """uint8 pixels, or float values in [0, 1] with no NaN or infinity."""
    if x.dtype == np.uint8:
        return
    if x.dtype.kind != "f":
        raise UserError(f"{what}: values are {x.dtype}; give uint8 pixels 0-255 or floats in [0, 1]")
    finite = np.isfinite(x)
    if not finite.all():
        i = np.unravel_index(int(np.argmin(finite)), x.shape)
        raise UserError(f"{what}: holds {x[i]} at index {tuple(int(j) for j in i)}; give finite values in [0, 1]")
    lo, hi = float(x.min(initial=0)), float(x.max(initial=0))
    if lo < 0 or hi > 1:
        scale = "; divide pixels 0-255 by 255" if hi <= 255 and lo >= 0 else ""
        raise UserError(f"{what}: float values span {lo:g}..{hi:g}, outside [0, 1]{scale}, or give uint8 pixels")


def held_out_count(n: int, test_size: float, what: str) -> int:
    """Examples drawn for the test split: a fraction (< 1) or a count (>= 1) of `n`, leaving both sides some."""
    k = round(n * test_size) if test_size < 1 else int(test_size)
    if test_size >= 1 and test_size != k:
        raise UserError(f"test_size={test_size:g}: give a fraction below 1 or a whole number of examples")
    if not 1 <= k < n:
        raise UserError(
            f"{what}: test_size={test_size:g} of {n} examples leaves {'no test' if k < 1 else 'no training'} "
            "examples; give a fraction in (0, 1) or a count below the number of examples"
        )
    return k


def draw_test_split(d: Decoded, seed: int, test_size: float, what: str) -> Decoded:
    """The test split of a source without one, drawn with `seed`; both sides keep the source's order."""
    if d.x_test is not None:
        return d
    n = len(d.y_train)
    k = held_out_count(n, test_size, what)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    test, train = np.sort(perm[:k]), np.sort(perm[k:])
    x, y, names = d.x_train, d.y_train, d.names_train
    return Decoded(
        x[train],
        y[train],
        x[test],
        y[test],
        d.classes,
        d.fingerprint,
        d.notes,
        None if names is None else [names[i] for i in train],
        None if names is None else [names[i] for i in test],
    )


def pixels(x: np.ndarray) -> torch.Tensor:
    """float32 values in [0, 1]: uint8 / 255 exactly as the IDX reader does, floats as they are."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    return t.float().div_(255) if x.dtype == np.uint8 else t.float()


def to_raw(d: Decoded, what: str, seed: int, test_size: float) -> RawData:
    """RawData of a decoded source, its test split drawn with `seed` where it has none; classes checked."""
    check_classes(d, what)
    d = draw_test_split(d, seed, test_size, what)
    check_classes(d, what)
    n = len(d.y_train)
    return RawData(
        x_train=pixels(d.x_train),
        y_train=torch.from_numpy(d.y_train),
        x_test=pixels(d.x_test),
        y_test=torch.from_numpy(d.y_test),
        classes=list(d.classes),
        default_val=min(MAX_DEFAULT_VAL, n // 10),
        fingerprint=d.fingerprint,
    )
