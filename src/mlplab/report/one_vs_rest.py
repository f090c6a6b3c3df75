"""one-vs-rest (experiments/one_vs_rest.py): a binary classifier for one class. Its main numbers, figures (curves
and the two bar charts of errors by class) and findings, from its files only."""

from __future__ import annotations

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.curves import curves
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("one-vs-rest", "accuracy", "precision", "recall", "f1")


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
    name = str(metrics.get("class_name", run.config.get("digit")))  # digit= may be an index or a name
    if "class_name" not in metrics and (run.path / "arrays" / "predictions.npz").is_file():
        a = run.load_arrays("predictions")  # a run from before class_name was recorded
        name = str(a["classes"][int(a["digit"])])
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


def _top(counts: dict[str, int]) -> str:
    worst = sorted(((n, c) for c, n in counts.items() if n), reverse=True)[:3]
    return ", ".join(f"{c} ({n})" for n, c in worst) or "none"


@register_findings("one-vs-rest")
def one_vs_rest(run: Run) -> list[Finding]:
    metrics, table = run.metrics, run.load_table("confusion_counts")
    if not table or "false_positives_by_class" not in metrics:
        return []
    c = {k: int(v) for k, v in table[0].items() if k != "digit" and "accuracy" not in k}
    name = table[0]["digit"]
    text = (
        f"{c['false_positives']} of {c['false_positives'] + c['true_negatives']} other test images were taken "
        f"for {name}, most often: {_top(metrics['false_positives_by_class'])}. {c['false_negatives']} of "
        f"{c['true_positives'] + c['false_negatives']} test images of {name} were missed; the every-class "
        f"network took them most often for: {_top(metrics['false_negatives_by_class'])}."
    )
    return [Finding(f"What {name} is confused with", text, "errors_by_class")]
