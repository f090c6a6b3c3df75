"""Reconstruction errors, code activity and encoder filters of autoencoders."""

from __future__ import annotations

import torch
from torch import nn


def per_image_sse(recon: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Summed squared error per image, (N,), in float64."""
    diff = recon.reshape(len(recon), -1).double() - clean.reshape(len(clean), -1).double()
    return (diff * diff).sum(1)


def per_image_mse(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error per pixel of each image's reconstruction by `model` (N,)."""
    return (model.reconstruct(x) - x).pow(2).flatten(1).mean(1)


def error_summary(sse: torch.Tensor, num_features: int) -> dict[str, float]:
    """Mean squared error per pixel and summed squared error per image, from per-image SSE."""
    return {"mse": float(sse.mean()) / num_features, "sse_per_image": float(sse.mean())}


def activity(codes: torch.Tensor, threshold: float) -> dict[str, float]:
    """Fraction of (image, unit) activations above threshold, the mean activation, never-active units."""
    active = codes > threshold  # (N, H)
    return {
        "active_fraction": float(active.double().mean()),
        "mean_activation": float(codes.double().mean()),
        "dead_units": int((~active.any(0)).sum()),
    }


def encoder_filters(model: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """The first encoder layer's weights as images, (units, *input_shape), each scaled to [0, 1]."""
    first = next(m for m in model.encoder if isinstance(m, nn.Linear))
    w = first.weight.detach().cpu()  # (units, D)
    lo, hi = w.min(1, keepdim=True).values, w.max(1, keepdim=True).values
    return ((w - lo) / (hi - lo).clamp_min(1e-12)).reshape(len(w), *input_shape)
