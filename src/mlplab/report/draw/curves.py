"""Per-epoch curves from metrics.jsonl rows: of some keys (curves), or of one key per model of a
multi-model run (rows carry a "model" field): per model (model_curves), or per group of models, such as the
seeds of one setting, as their mean (mean_curves + plot_curves, for figures with more on them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.report.draw.plots import new_figure, save


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


def mean_curves(
    history: list[dict[str, Any]], key: str, groups: dict[str, Sequence[str]]
) -> dict[str, tuple[list[int], np.ndarray]]:
    """Per group of models (a model's rows carry its name in "model"; "" = the rows without one): the epochs of its
    first model's rows with `key`, and `key` of every model of the group, (models, epochs). A group whose first
    model has no such row is left out."""
    out = {}
    for name, models in groups.items():
        rows = [[r for r in history if r.get("model", "") == m and key in r] for m in models]
        if rows and rows[0]:
            out[name] = ([r["epoch"] for r in rows[0]], np.array([[r[key] for r in mine] for mine in rows]))
    return out


def plot_curves(
    ax,
    found: dict[str, tuple[list[int], np.ndarray]],
    *,
    marker: str = ".",
    ms: float | None = None,
    labels: dict[str, str] | None = None,
    colors: dict[str, str] | None = None,
    band: bool = False,
) -> None:
    """mean_curves' groups on `ax`: the mean over each group's models, and with `band` the min-max band of a
    group of several."""
    for name, (epochs, values) in found.items():
        label = (labels or {}).get(name, name)
        ax.plot(epochs, values.mean(0), marker=marker, ms=ms, color=(colors or {}).get(name), label=label)
        if band and len(values) > 1:
            ax.fill_between(epochs, values.min(0), values.max(0), alpha=0.2)


def model_curves(
    history: list[dict[str, Any]],
    key: str,
    title: str,
    path: Path,
    ylabel: str,
    models: Sequence[str] | None = None,
    size: tuple[float, float] = (6.0, 4.0),
    unnamed: str = "",
) -> Path | None:
    """One curve of `key` per model (log scale): `models` in that order ("" = the rows without a model, shown
    as `unnamed`), else every model named in the rows; nothing when no model has a row with `key`."""
    if models is None:
        models = list(dict.fromkeys(r["model"] for r in history if "model" in r and key in r))
    found = mean_curves(history, key, {m: [m] for m in models})
    if not found:
        return None
    fig = new_figure(*size)
    ax = fig.add_subplot()
    plot_curves(ax, found, labels={m: m or unnamed for m in found})
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
