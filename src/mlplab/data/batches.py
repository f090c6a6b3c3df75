"""Batches over resident tensors: one seeded permutation per epoch, then views. No workers."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def iterate_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (x, y) batches. With `shuffle`, one gather per epoch makes every batch a contiguous view."""
    n = len(x)
    if shuffle:
        perm = torch.randperm(n, generator=generator, device="cpu").to(x.device)
        x, y = x[perm], y[perm]
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    return n // batch_size if drop_last else -(-n // batch_size)
