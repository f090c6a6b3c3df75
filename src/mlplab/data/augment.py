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


def identity_grid(n: int, h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(N, H, W, 2) sampling positions (x, y) in [-1, 1] of every pixel's centre (`align_corners=False`)."""
    ys = (torch.arange(h, device=device, dtype=dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=device, dtype=dtype) * 2 + 1) / w - 1
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).expand(n, h, w, 2)


def blur_matrix(size: int, sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(size, size) matrix of a Gaussian blur of `sigma` pixels along one axis, cut at 3 sigma, zero outside
    the image (each row is the kernel centred on that pixel, normalised over the whole kernel)."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    i = torch.arange(size)
    offset = i[None, :] - i[:, None]  # (size, size): column minus row
    inside = offset.abs() <= radius
    m = torch.where(inside, kernel[(offset + radius).clamp(0, 2 * radius)], torch.zeros(()))
    return m.to(device, dtype)


def smooth_field(noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """`noise` (N, C, H, W) blurred by a Gaussian of `sigma` pixels along H and W, zero outside the image: the
    displacement fields of elastic distortions (as two matrix products, far cheaper than a 6-sigma-wide
    convolution on a CPU)."""
    _, _, h, w = noise.shape
    rows = blur_matrix(h, sigma, noise.device, noise.dtype)
    cols = blur_matrix(w, sigma, noise.device, noise.dtype)
    return rows @ noise @ cols.T


def elastic(alpha: float = 34.0, sigma: float = 4.0, fill: float = 0.0) -> Augment:
    """Elastic distortion (Simard, Steinkraus & Platt 2003): every pixel moves by a random field, uniform in
    [-1, 1] per pixel, blurred by a Gaussian of `sigma` pixels and scaled by `alpha` pixels; the image is
    resampled bilinearly at the moved positions. alpha=34, sigma=4 are the paper's values for 28x28 digits.
    Batched: one blur and one `grid_sample` for the whole batch."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        noise = (torch.rand(n, 2, h, w, generator=gen) * 2 - 1).to(x.device, x.dtype)
        field = smooth_field(noise, sigma) * alpha  # (N, 2, H, W) displacement in pixels: (dx, dy)
        scale = torch.tensor([2.0 / w, 2.0 / h], dtype=x.dtype, device=x.device)  # pixels -> grid units
        grid = identity_grid(n, h, w, x.device, x.dtype) + field.permute(0, 2, 3, 1) * scale
        out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return out + fill

    return apply


def erase_boxes(
    n: int, h: int, w: int, gen: torch.Generator, p: float, area: tuple[float, float], ratio: tuple[float, float]
) -> torch.Tensor:
    """(N, 4) boxes (top, left, height, width) of random erasing, one per image; height 0 = nothing erased. An
    image is chosen with probability p; its box covers a uniform share `area` of the image with a log-uniform
    aspect `ratio` (height / width), at a uniform position. A box that does not fit is dropped (torchvision
    draws again up to 10 times; one draw keeps the batch's random stream fixed in length)."""
    chosen = torch.rand(n, generator=gen) < p
    share = area[0] + torch.rand(n, generator=gen) * (area[1] - area[0])
    log_r = math.log(ratio[0]) + torch.rand(n, generator=gen) * (math.log(ratio[1]) - math.log(ratio[0]))
    bh = torch.sqrt(share * h * w * torch.exp(log_r)).round().long()
    bw = torch.sqrt(share * h * w / torch.exp(log_r)).round().long()
    fits = chosen & (bh >= 1) & (bw >= 1) & (bh < h) & (bw < w)
    top = (torch.rand(n, generator=gen) * (h - bh + 1).clamp(min=1)).long()
    left = (torch.rand(n, generator=gen) * (w - bw + 1).clamp(min=1)).long()
    return torch.stack([top, left, bh * fits, bw * fits], 1)


def random_erasing(p: float = 0.5, area: tuple[float, float] = (0.02, 0.4), ratio=(0.3, 3.3)) -> Augment:
    """Random erasing (Zhong et al. 2017, tried first on Fashion-MNIST): a random box of each chosen image is
    replaced by standard normal noise (torchvision's value="random", the scale of the normalised pixels).
    Batched: the boxes are masks made by comparing positions with the boxes' edges."""

    def apply(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        box = erase_boxes(n, h, w, gen, p, area, ratio).to(x.device)
        noise = torch.randn(x.shape, generator=gen).to(x.device, x.dtype)
        rows = torch.arange(h, device=x.device)[None, :]  # (1, H)
        cols = torch.arange(w, device=x.device)[None, :]
        in_rows = (rows >= box[:, :1]) & (rows < box[:, :1] + box[:, 2:3])  # (N, H)
        in_cols = (cols >= box[:, 1:2]) & (cols < box[:, 1:2] + box[:, 3:4])  # (N, W)
        mask = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]  # (N, 1, H, W)
        return torch.where(mask, noise, x)

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
    """Batched augmentations of a dataset by name: crop, flip, affine, elastic, erase (padding is in normalised
    units of black); applied in the order given."""
    from mlplab.errors import UserError

    if not names:
        return None
    if not ds.is_image:
        raise UserError(f"augment={names} needs an image dataset; {ds.name!r} has no images")
    black = ds.from_pixels(torch.zeros(1, ds.input_shape[0], 1, 1))[0, 0, 0, 0].item()
    side = ds.input_shape[-1]
    table = {
        "crop": lambda: random_crop(max(1, ds.input_shape[-1] // 8), fill=black),
        "flip": lambda: hflip(),
        "affine": lambda: small_affine(fill=black),
        # the paper's strength for 28x28 digits, scaled with the side
        "elastic": lambda: elastic(34.0 * side / 28, 4.0 * side / 28, fill=black),
        "erase": lambda: random_erasing(),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise UserError(f"unknown augmentation {unknown[0]!r}; choose from: {', '.join(table)}")
    return compose(*(table[n]() for n in names))
