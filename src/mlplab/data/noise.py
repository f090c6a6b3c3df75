"""Noise models on pixel tensors in [0, 1] (pure functions; the generator makes them reproducible)."""
from __future__ import annotations

import torch


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, sigma^2) per pixel (not clipped, so the added noise has exactly std sigma)."""
    if sigma < 0:
        raise ValueError(f"sigma={sigma} must be >= 0")
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return x + sigma * noise


def salt_and_pepper(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a `fraction` of the pixels, chosen at random, to 0 or 1 with equal probability."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in [0, 1]")
    hit = torch.rand(x.shape, generator=generator).to(x.device) < fraction
    salt = torch.rand(x.shape, generator=generator).to(x.device) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)
