"""Shared pieces of projection figures: a 2-D scatter coloured by class, per-class separability bars, and the
sentence that names the classes a projection separates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from mlplab.report.draw.plots import new_figure, save

WELL_SEPARATED, POORLY_SEPARATED = 0.8, 0.5


def separability_sentence(
    per_class: Sequence[float], accuracy: float, k: int, classes: Sequence[str], where: str
) -> str:
    """One sentence naming the classes a projection separates well, partly and poorly."""
    pairs = [(c, float(v)) for c, v in zip(classes, per_class, strict=True) if v == v]
    pairs.sort(key=lambda p: -p[1])

    def names(group):
        return ", ".join(f"{c} ({v:.1%})" for c, v in group) or "none"

    good = [p for p in pairs if p[1] >= WELL_SEPARATED]
    poor = [p for p in pairs if p[1] < POORLY_SEPARATED]
    middle = [p for p in pairs if POORLY_SEPARATED <= p[1] < WELL_SEPARATED]
    return (
        f"In {where}, {k}-nearest-neighbour accuracy is {accuracy:.1%} overall; "
        f"well separated (>= {WELL_SEPARATED:.0%}): {names(good)}; "
        f"partly: {names(middle)}; "
        f"not separated (< {POORLY_SEPARATED:.0%}): {names(poor)}."
    )


def class_colors(k: int) -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N) for i in range(k)])


def projection_panel(
    ax: Axes,
    z: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    title: str,
    ratio: np.ndarray | None = None,
    legend: bool = True,
) -> None:
    """Points z (N, 2) coloured by label y, axes named with the variance share of each component."""
    colors = class_colors(len(classes))
    for c, name in enumerate(classes):
        mine = y == c
        if mine.any():
            ax.scatter(z[mine, 0], z[mine, 1], s=3, alpha=0.6, color=colors[c], label=name, rasterized=True)
    xl, yl = ("PC1", "PC2") if ratio is None else (f"PC1 ({ratio[0]:.1%})", f"PC2 ({ratio[1]:.1%})")
    ax.set(xlabel=xl, ylabel=yl, title=title)
    if legend:
        ax.legend(markerscale=4, fontsize=7, loc="best", frameon=True)


def separability_bars(series: dict[str, np.ndarray], classes: Sequence[str], path: Path, title: str) -> Path:
    """Grouped bars: per-class kNN accuracy for each named projection (e.g. one per layer)."""
    k, m = len(classes), len(series)
    fig = new_figure(max(6.0, 0.35 * k * m + 1.5), 3.8)
    ax = fig.add_subplot()
    width = 0.8 / m
    pos = np.arange(k)
    for i, (name, values) in enumerate(series.items()):
        ax.bar(pos - 0.4 + width * (i + 0.5), np.nan_to_num(values), width, label=name)
    ax.set(xticks=pos, ylim=(0, 1), ylabel="kNN accuracy of the class", title=title)
    ax.set_xticklabels(classes, rotation=45 if max(map(len, classes)) > 2 else 0, ha="right")
    ax.grid(axis="y", alpha=0.3)
    if m > 1:
        ax.legend(fontsize=8)
    return save(fig, path)
