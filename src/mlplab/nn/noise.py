"""Noise models on pixel tensors in [0, 1] (pure functions; the generator makes them reproducible)."""

from __future__ import annotations

import torch


def gaussian_noise(
    x: torch.Tensor, sigma: float, generator: torch.Generator | None = None, clip: bool = False
) -> torch.Tensor:
    """x + N(0, sigma^2) per pixel; unclipped by default, so the added noise has exactly std sigma.

    `clip=True` clamps the result to [0, 1], so the noisy image is a valid image again.
    """
    if sigma < 0:
        raise ValueError(f"sigma={sigma} must be >= 0")
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    noisy = x + sigma * noise
    return noisy.clamp(0, 1) if clip else noisy


def salt_and_pepper(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set exactly round(fraction * D) pixels of every image (D pixels each), chosen at random,
    to 1 (salt) or 0 (pepper) with equal probability; the other pixels are left as they are."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in [0, 1]")
    flat = x.reshape(len(x), -1) if x.dim() > 1 else x.reshape(1, -1)  # (N, D)
    n, d = flat.shape
    hits = round(fraction * d)
    # the `hits` pixels with the smallest random keys: a uniform random subset of exactly that size per image
    keys = torch.rand((n, d), generator=generator)
    chosen = torch.zeros((n, d), dtype=torch.bool)
    chosen.scatter_(1, keys.argsort(1)[:, :hits], True)
    salt = torch.rand((n, d), generator=generator) < 0.5
    out = torch.where(chosen.to(x.device), salt.to(device=x.device, dtype=x.dtype), flat)
    return out.reshape(x.shape)
