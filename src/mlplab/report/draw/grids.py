"""Images in grids: a matplotlib figure with titles (image_grid), labelled rows (rows_grid), and the plain
uint8 picture of a grid that animation frames are made of (pixel_grid)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mlplab.report.draw.plots import new_figure, save


def image_grid(
    images: np.ndarray,
    path: Path,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    title: str = "",
    cmap: str = "gray",
    scale: float = 1.0,
) -> Path:
    """Images (N, C, H, W) or (N, H, W) in [0, 1], in a grid with optional titles."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = new_figure(scale * 1.1 * ncols, scale * 1.25 * nrows + (0.4 if title else 0))
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(np.clip(images[i], 0, 1), cmap=cmap if images[i].ndim == 2 else None, vmin=0, vmax=1)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def rows_grid(rows: list[tuple[str, np.ndarray]], path: Path, title: str, cmap: str = "gray") -> Path:
    """Rows of images (each (M, C, H, W) or (M, H, W)), a label at the left of each row."""
    m = max(len(images) for _, images in rows)
    fig = new_figure(0.9 * m + 1.2, 0.95 * len(rows) + 0.5)
    grid = fig.add_gridspec(len(rows), m)
    for i, (label, images) in enumerate(rows):
        images = np.asarray(images)
        if images.ndim == 4:
            images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
        for j, image in enumerate(images):
            ax = fig.add_subplot(grid[i, j])
            ax.imshow(
                np.clip(image, 0, 1) if cmap == "gray" else image,
                cmap=cmap,
                vmin=0 if cmap == "gray" else None,
                vmax=1 if cmap == "gray" else None,
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def pixel_grid(images: np.ndarray, ncols: int, upscale: int, gap: float = 0.0) -> np.ndarray:
    """(B, C, H, W) in [0, 1] -> one uint8 picture ((H', W') or (H', W', C)) of an ncols-wide grid, each pixel
    `upscale` x `upscale`, the images 1 pixel apart on a background of value `gap`."""
    b, c, h, w = images.shape
    nrows = -(-b // ncols)
    canvas = np.full((c, nrows * (h + 1) - 1, ncols * (w + 1) - 1), gap)
    for i, img in enumerate(images):
        r, q = divmod(i, ncols)
        canvas[:, r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = img
    canvas = canvas.repeat(upscale, 1).repeat(upscale, 2).transpose(1, 2, 0)
    out = (np.clip(canvas, 0, 1) * 255).round().astype(np.uint8)
    return out[..., 0] if c == 1 else out
