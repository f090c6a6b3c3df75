"""Plot helpers shared by the report builders; matplotlib's object API, no global pyplot state."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mlplab.runs import atomic_path


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save(fig: Figure, path: Path) -> Path:
    """Write the PNG atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def curves(
    history: list[dict[str, Any]], keys: Sequence[str], title: str, path: Path, ylabel: str = "", logy: bool = False
) -> Path | None:
    """Per-epoch curves of the given metrics.jsonl keys (those present)."""
    present = [k for k in keys if any(k in row for row in history)]
    if not present:
        return None
    fig = new_figure()
    ax = fig.add_subplot()
    for key in present:
        rows = [r for r in history if key in r and r[key] is not None]
        ax.plot([r.get("epoch", i + 1) for i, r in enumerate(rows)], [r[key] for r in rows], marker=".", label=key)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """counts[i, j] = test examples of class i predicted as j."""
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def confusion_figure(cm: np.ndarray, classes: Sequence[str], path: Path, title: str = "confusion matrix") -> Path:
    k = len(classes)
    fig = new_figure(1.0 + 0.55 * k, 0.8 + 0.5 * k)
    ax = fig.add_subplot()
    im = ax.imshow(cm, cmap="Blues")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(classes, rotation=45, ha="right")
    ax.set_yticklabels(classes)
    top = cm.max() if cm.size else 1
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(cm[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[i, j] > top / 2 else "black",
            )
    fig.colorbar(im, ax=ax, shrink=0.8)
    return save(fig, path)


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
