"""Batched augmentations on tensors (N, C, H, W); each takes the batch and a torch.Generator.

Pure functions, composable with `compose(random_crop(4), hflip())`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _rand(n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=gen).to(device)


def random_crop(padding: int, fill: float = 0.0) -> Augment:
    """Pad by `padding` on every side, then crop back to the original size at a random offset."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n, c, h, w = x.shape
        padded = F.pad(x, (padding,) * 4, value=fill)  # (N, C, H+2p, W+2p)
        dy = torch.randint(0, 2 * padding + 1, (n,), generator=gen).to(x.device)
        dx = torch.randint(0, 2 * padding + 1, (n,), generator=gen).to(x.device)
        rows = dy[:, None] + torch.arange(h, device=x.device)  # (N, H)
        cols = dx[:, None] + torch.arange(w, device=x.device)  # (N, W)
        idx_n = torch.arange(n, device=x.device)[:, None, None, None]
        idx_c = torch.arange(c, device=x.device)[None, :, None, None]
        return padded[idx_n, idx_c, rows[:, None, :, None], cols[:, None, None, :]]

    return apply


def hflip(p: float = 0.5) -> Augment:
    """Mirror each image left-right with probability p."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        flip = (_rand(len(x), gen, x.device) < p).view(-1, 1, 1, 1)
        return torch.where(flip, x.flip(-1), x)

    return apply


def small_affine(
    degrees: float = 10.0, translate: float = 0.1, scale: tuple[float, float] = (0.9, 1.1), fill: float = 0.0
) -> Augment:
    """Random rotation, translation (fraction of the side) and scale, one affine grid per batch."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n = len(x)
        angle = (_rand(n, gen, x.device) * 2 - 1) * math.radians(degrees)
        s = scale[0] + _rand(n, gen, x.device) * (scale[1] - scale[0])
        tx = (_rand(n, gen, x.device) * 2 - 1) * translate * 2  # grid coordinates span [-1, 1]
        ty = (_rand(n, gen, x.device) * 2 - 1) * translate * 2
        cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (N, 2, 3)
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return out + fill

    return apply


def _flat_pixels(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], x.shape[1], -1) if x.dim() == 4 else x.unsqueeze(1)  # (N, C, P)


def permute_pixels(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Every image's pixel positions reordered by `perm` (P,) (the same for every channel); shape kept."""
    return _flat_pixels(x)[:, :, perm.to(x.device)].reshape(x.shape)


def shuffle_pixels_per_batch() -> Augment:
    """One new random order of the pixel positions for the whole batch."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return permute_pixels(x, torch.randperm(_flat_pixels(x).shape[-1], generator=gen))

    return apply


def shuffle_pixels_per_image() -> Augment:
    """A new random order of the pixel positions for every image."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        flat = _flat_pixels(x)  # (N, C, P)
        order = torch.rand(flat.shape[0], flat.shape[-1], generator=gen).argsort(1).to(x.device)  # (N, P)
        return flat.gather(2, order[:, None, :].expand_as(flat)).reshape(x.shape)

    return apply


def sort_pixels(x: torch.Tensor) -> torch.Tensor:
    """Each image's values in increasing order per channel: its intensity histogram, blind to any permutation."""
    return _flat_pixels(x).sort(-1).values.reshape(x.shape)


def compose(*augments: Augment) -> Augment:
    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        for aug in augments:
            x = aug(x, gen)
        return x

    return apply


def augment_from_names(names: list[str], ds) -> Augment | None:
    """Batched augmentations of a dataset by name: crop, flip, affine (padding is in normalised units of black)."""
    from mlplab.errors import UserError

    if not names:
        return None
    if not ds.is_image:
        raise UserError(f"augment={names} needs an image dataset; {ds.name!r} has no images")
    black = ds.from_pixels(torch.zeros(1, ds.input_shape[0], 1, 1))[0, 0, 0, 0].item()
    table = {
        "crop": lambda: random_crop(max(1, ds.input_shape[-1] // 8), fill=black),
        "flip": lambda: hflip(),
        "affine": lambda: small_affine(fill=black),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise UserError(f"unknown augmentation {unknown[0]!r}; choose from: {', '.join(table)}")
    return compose(*(table[n]() for n in names))
