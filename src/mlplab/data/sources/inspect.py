"""`mlplab data inspect SOURCE`: what mlplab sees in a dataset, before anything trains on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlplab.config import BaseConfig, param, parse_overrides
from mlplab.data.sources.base import Decoded, check_classes, draw_test_split

SHOWN_DUPLICATES = 3


def _hashes(x: np.ndarray) -> list[bytes]:
    rows = np.ascontiguousarray(x).reshape(len(x), -1)
    return [hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in rows]


def duplicates(train: np.ndarray, test: np.ndarray) -> tuple[list[tuple[int, int]], int]:
    """(test, train) index pairs of test examples identical to a training one; and repeats within train."""
    first: dict[bytes, int] = {}
    repeats = 0
    for i, h in enumerate(_hashes(train)):
        if h in first:
            repeats += 1
        else:
            first[h] = i
    return [(i, first[h]) for i, h in enumerate(_hashes(test)) if h in first], repeats


def _shape(x: np.ndarray) -> str:
    if x.ndim == 2:
        return f"{x.shape[1]} features per example (no images)"
    c, h, w = x.shape[1:]
    kind = {1: "grey", 3: "RGB"}.get(c, f"{c} channels")
    return f"{c} x {h} x {w} ({kind})"


def _range(x: np.ndarray) -> str:
    if x.dtype == np.uint8:
        lo, hi, mean = int(x.min(initial=0)), int(x.max(initial=0)), float(x.mean()) if x.size else 0.0
        return f"uint8 {lo}..{hi} (mean {mean:.1f}); mlplab reads pixels as value / 255, in [0, 1]"
    return f"float {float(x.min(initial=0)):.4g}..{float(x.max(initial=0)):.4g} (mean {float(x.mean()):.4g})"


def _named(names: list[str] | None, i: int) -> str:
    return names[i] if names else f"#{i}"


def report(name: str, d: Decoded, *, seed: int, test_size: float, where: Path | None, cached: bool) -> str:
    """The lines `mlplab data inspect` prints for decoded data `d`."""
    check_classes(d, name)
    drawn = d.x_test is None
    d = draw_test_split(d, seed, test_size, name)
    lines = [f"source      {name}" + (f" ({where})" if where else "")]
    if where is not None:
        lines.append(f"decoded     {'from the decoded cache' if cached else 'now (kept in the decoded cache)'}")
    k = len(d.classes)
    train_counts = np.bincount(d.y_train, minlength=k)
    test_counts = np.bincount(d.y_test, minlength=k)
    how = f"drawn with seed={seed}, test_size={test_size:g}" if drawn else "the source's own"
    lines += [
        f"examples    train {len(d.y_train):,}, test {len(d.y_test):,} (test split: {how}); the validation split is "
        "drawn from train when a run starts (val_size)",
        f"classes     {k}",
    ]
    width = max(len("class"), *(len(c) for c in d.classes))
    lines.append(f"    {'class':<{width}}  {'train':>8}  {'test':>8}")
    lines += [f"    {c:<{width}}  {train_counts[i]:>8,}  {test_counts[i]:>8,}" for i, c in enumerate(d.classes)]
    lines += [f"shape       {_shape(d.x_train)}", f"values      {_range(d.x_train)}"]
    pairs, repeats = duplicates(d.x_train, d.x_test)
    if pairs:
        shown = "; ".join(
            f"test {_named(d.names_test, a)} = train {_named(d.names_train, b)}" for a, b in pairs[:SHOWN_DUPLICATES]
        )
        lines.append(
            f"duplicates  {len(pairs):,} test examples are identical to a training example (by hash): {shown}"
            + (", ..." if len(pairs) > SHOWN_DUPLICATES else "")
        )
    else:
        lines.append("duplicates  no test example is identical to a training example (by hash)")
    if repeats:
        lines.append(f"            {repeats:,} training examples repeat an earlier one")
    lines += [f"skipped     {note}" for note in d.notes] or ["skipped     nothing"]
    return "\n".join(lines)


def inspect(name: str, *, seed: int = 0, test_size: float = 0.2, image_size: int = 0, skip_bad: bool = False,
            data_dir: str | None = None) -> str:  # fmt: skip
    """What mlplab sees in a users' source `kind:PATH` or a registered dataset."""
    from mlplab.data.core import DATASETS, default_data_dir
    from mlplab.data.sources import decode_source, is_source

    if is_source(name):
        d, where, hit = decode_source(name, image_size=image_size, skip_bad=skip_bad)
        return report(name, d, seed=seed, test_size=test_size, where=where, cached=hit)
    raw = DATASETS.get(name)(Path(data_dir).expanduser() if data_dir else default_data_dir(), True)

    def stored(x) -> np.ndarray:
        a = x.numpy()
        as_bytes = np.round(a * 255)
        return as_bytes.astype(np.uint8) if (np.abs(as_bytes - a * 255) < 1e-3).all() else a

    d = Decoded(stored(raw.x_train), raw.y_train.numpy(), stored(raw.x_test), raw.y_test.numpy(), list(raw.classes))
    return report(name, d, seed=seed, test_size=test_size, where=None, cached=False)


@dataclass
class InspectConfig(BaseConfig):
    """The keys `mlplab data inspect SOURCE key=value ...` takes (the same meaning as in a run)."""

    image_size: int = param(0, "resize images to this side; 0 = native", min=0, max=256)


def inspect_command(source: str, options: list[str]) -> str:
    """`mlplab data inspect SOURCE key=value ...`: the options validated as a run's keys, then the report."""
    cfg = parse_overrides(InspectConfig, options)
    return inspect(
        source,
        seed=cfg.seed,
        test_size=cfg.test_size,
        image_size=cfg.image_size,
        skip_bad=cfg.skip_bad,
        data_dir=cfg.data_dir or None,
    )
