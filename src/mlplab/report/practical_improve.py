"""Figures of an `mlp-improve` run (the ablation table over seeds), from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.analysis.spread import Spread, spread
from mlplab.report import register_figures
from mlplab.report.plots import new_figure, save
from mlplab.runs import Run


def by_row(run: Run) -> dict[str, Spread]:
    rows = run.load_table("per_seed")
    return {
        r: spread(float(x["test_accuracy"]) for x in rows if x["row"] == r)
        for r in dict.fromkeys(x["row"] for x in rows)
    }


@register_figures("mlp-improve")
def build(run: Run) -> None:
    s = by_row(run)
    if not s:
        return
    fig = new_figure(8, 4.5)
    ax = fig.add_subplot()
    names = list(s)
    means = np.array([s[n].mean for n in names])
    err = np.array([[s[n].mean - s[n].ci_low for n in names], [s[n].ci_high - s[n].mean for n in names]])
    ax.bar(range(len(names)), means, yerr=err, capsize=4, color=["grey"] + ["tab:blue"] * (len(names) - 1))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    low = max(0.0, float((means - err[0]).min()) - 0.02)
    ax.set(
        ylim=(low, min(1.0, float((means + err[1]).max()) + 0.01)),
        ylabel="test accuracy",
        title=f"ablation on {run.metrics.get('dataset')}: mean and 95% interval over {run.metrics.get('seeds')} seeds",
    )
    ax.axhline(s[names[0]].mean, color="grey", lw=0.8, ls="--")
    ax.grid(alpha=0.3, axis="y")
    save(fig, run.figure("ablation"))
    history, per_seed = run.history, run.load_table("per_seed")
    fig = new_figure(8, 4.5)
    ax = fig.add_subplot()
    for name in names:
        curves = [
            [x["val_accuracy"] for x in history if x.get("model") == f"{name}-seed{r['seed']}" and "val_accuracy" in x]
            for r in per_seed
            if r["row"] == name
        ]
        if curves and curves[0]:
            ax.plot(range(1, len(curves[0]) + 1), np.mean(curves, 0), "-o", ms=3, label=name)
    ax.set(xlabel="epoch", ylabel="validation accuracy (mean over seeds)", title="validation curves per row")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    save(fig, run.figure("curves"))
