"""Epochs over NumPy arrays: one seeded permutation per epoch, then contiguous batch views."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from mlplab.scratch.mlp import MLP


def batch_order(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The index arrays of one shuffled epoch (the last batch may be smaller)."""
    perm = rng.permutation(n)
    return [perm[i : i + batch_size] for i in range(0, n, batch_size)]


def batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    perm = rng.permutation(len(x))
    x, y = x[perm], y[perm]  # one gather per epoch; the batches are views
    for i in range(0, len(x), batch_size):
        yield x[i : i + batch_size], y[i : i + batch_size]


def train_epoch(
    model: MLP,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    on_step: Callable[[MLP, float], None] | None = None,
) -> float:
    """One pass over (x, y); returns the mean batch loss (weighted by batch size)."""
    total = 0.0
    for xb, yb in batches(x, y, batch_size, rng):
        loss = model.training_step(xb, yb)
        total += loss * len(yb)
        if on_step is not None:
            on_step(model, loss)
    return total / max(len(x), 1)
