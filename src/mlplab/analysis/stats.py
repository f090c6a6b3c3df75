"""Summary statistics of a tensor, as plain numbers for metrics and tables."""

from __future__ import annotations

import torch


def summary(x: torch.Tensor) -> dict:
    """min, max, mean, standard deviation (N - 1), shape and dtype of x."""
    flat = x.detach().flatten().double()
    return {
        "min": float(flat.min()),
        "max": float(flat.max()),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "shape": list(x.shape),
        "dtype": str(x.dtype).removeprefix("torch."),
    }


def histogram(x: torch.Tensor, bins: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(edges (bins + 1,), counts (bins,)) of the values of x over their own range."""
    flat = x.detach().flatten().float().cpu()
    lo, hi = float(flat.min()), float(flat.max())
    hi = hi if hi > lo else lo + 1.0
    return torch.linspace(lo, hi, bins + 1), torch.histc(flat, bins, lo, hi)
