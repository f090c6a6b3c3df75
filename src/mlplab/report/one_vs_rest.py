"""Figures of a `one-vs-rest` run: curves and the two bar charts of errors by class."""

from __future__ import annotations

from mlplab.report import register_figures
from mlplab.report.plots import curves, new_figure, save
from mlplab.runs import Run


@register_figures("one-vs-rest")
def build(run: Run) -> None:
    history = run.history
    curves(
        history,
        ["train_loss", "val_loss"],
        "binary network loss",
        run.figure("loss_curves"),
        ylabel="binary cross-entropy",
    )
    metrics = run.metrics
    if "false_positives_by_class" not in metrics:
        return
    name = str(run.config.get("digit"))
    if (run.path / "arrays" / "predictions.npz").is_file():
        name = str(run.load_arrays("predictions")["classes"][int(name)])
    fig = new_figure(10.0, 3.6)
    for i, (key, title) in enumerate(
        (
            ("false_positives_by_class", f"other classes taken for {name}"),
            ("false_negatives_by_class", f"missed {name}: what it was taken for"),
        )
    ):
        counts = metrics[key]
        ax = fig.add_subplot(1, 2, i + 1)
        bars = ax.bar(list(counts), list(counts.values()), color="C3" if i == 0 else "C0")
        ax.bar_label(bars, fontsize=8)
        ax.set(xlabel="true class" if i == 0 else "most confident other class", ylabel="test images", title=title)
        ax.tick_params(axis="x", labelrotation=45 if max(map(len, counts)) > 2 else 0)
    save(fig, run.figure("errors_by_class"))
