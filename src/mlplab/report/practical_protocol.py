"""Figures of an `mlp-protocol` run, from its files only."""

from __future__ import annotations

from mlplab.report import register_figures
from mlplab.report.plots import curves
from mlplab.runs import Run


@register_figures("mlp-protocol")
def build(run: Run) -> None:
    history = run.history
    curves(
        history,
        ["train_accuracy", "val_accuracy"],
        f"accuracy (validation every {run.config.get('eval_every')} epochs)",
        run.figure("accuracy"),
        ylabel="accuracy",
    )
    curves(history, ["train_loss", "val_loss"], "cross-entropy", run.figure("loss"), ylabel="loss", logy=True)
