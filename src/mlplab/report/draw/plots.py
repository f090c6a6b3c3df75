"""A figure and its PNG (matplotlib's object API, no global pyplot state), and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
