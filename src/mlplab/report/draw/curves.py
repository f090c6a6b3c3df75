"""Per-epoch curves from metrics.jsonl rows: of some keys (curves), or of one key per model of a
multi-model run (model_curves; rows carry a "model" field)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    drawn = {m: [r for r in history if r.get("model", "") == m and key in r] for m in models}
    drawn = {m: rows for m, rows in drawn.items() if rows}
    if not drawn:
        return None
    fig = new_figure(*size)
    ax = fig.add_subplot()
    for model, rows in drawn.items():
        ax.plot([r["epoch"] for r in rows], [r[key] for r in rows], marker=".", label=model or unnamed)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
