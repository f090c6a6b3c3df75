"""Figures of a `pixel-shuffle` run, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.analysis.spread import Spread, spread
from mlplab.report import register_figures
from mlplab.report.plots import image_grid, new_figure, save
from mlplab.runs import Run


def by_mode(run: Run) -> dict[str, Spread]:
    """mode -> spread of the test accuracy over seeds, from the per-seed table."""
    rows = run.load_table("per_seed")
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    return {m: spread(float(r["test_accuracy"]) for r in rows if r["mode"] == m) for m in modes}


@register_figures("pixel-shuffle")
def build(run: Run) -> None:
    rows, history = run.load_table("per_seed"), run.history
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    for mode in dict.fromkeys(r["mode"] for r in rows):
        seeds = [[x for x in history if x.get("model") == f"{mode}-seed{r['seed']}"] for r in rows if r["mode"] == mode]
        epochs = [x["epoch"] for x in seeds[0] if "val_accuracy" in x]
        acc = np.array([[x["val_accuracy"] for x in s if "val_accuracy" in x] for s in seeds])  # (seeds, epochs)
        ax.plot(epochs, acc.mean(0), "-o", ms=3, label=f"{mode} ({len(seeds)} seeds)")
        if len(seeds) > 1:
            ax.fill_between(epochs, acc.min(0), acc.max(0), alpha=0.2)
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy (mean; band: min-max over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, run.figure("curves"))
    a = run.load_arrays("examples")
    images = a["images"] * a["std"].reshape(1, 1, -1, 1, 1) + a["mean"].reshape(1, 1, -1, 1, 1)  # (modes, 8, C, H, W)
    titles = [str(m) if i == 0 else "" for m in a["modes"] for i in range(images.shape[1])]
    image_grid(
        images.reshape(-1, *images.shape[2:]),
        run.figure("examples"),
        titles=titles,
        ncols=images.shape[1],
        title="test images as each mode shows them",
    )
