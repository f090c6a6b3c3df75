"""Findings of classify, one-vs-rest and explore, composed from their metrics, tables and arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlplab.report.findings import Finding, register_findings
from mlplab.runs import Run

WELL_SEPARATED, POORLY_SEPARATED = 0.8, 0.5


def describe(per_class: Sequence[float], accuracy: float, k: int, classes: Sequence[str], where: str) -> str:
    """One sentence naming the classes a projection separates well, partly and poorly."""
    pairs = [(c, float(v)) for c, v in zip(classes, per_class) if v == v]
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


def _classes(arrays: dict[str, np.ndarray]) -> list[str]:
    return [str(c) for c in arrays["classes"]]


@register_findings("classify")
def classify(run: Run) -> list[Finding]:
    metrics, k = run.metrics, int(run.config["knn_k"])
    overall = metrics.get("layer_knn_accuracy", {})
    if not overall:
        return []
    arrays = run.load_arrays("layers")
    names = [str(n) for n in arrays["names"]]
    out = []
    for name in dict.fromkeys(("input", names[-1])):
        out.append(
            Finding(
                f"Separability in 2-D: {name}",
                describe(
                    arrays[f"sep_{name}"],
                    overall[name],
                    k,
                    _classes(arrays),
                    f"the first two principal components of {name}",
                ),
                "layer_separability",
            )
        )
    out.append(
        Finding(
            "Separation by depth",
            f"{k}-nearest-neighbour accuracy on the first two principal components: "
            + " -> ".join(f"{n} {a:.1%}" for n, a in overall.items())
            + ". Each column of the layer table gives the share of a class's test images whose neighbours "
            "in that projection carry its label.",
            "layer_knn_accuracy",
        )
    )
    return out


@register_findings("explore")
def explore(run: Run) -> list[Finding]:
    metrics = run.metrics
    if "knn_accuracy_2d" not in metrics:
        return []
    arrays = run.load_arrays("projection")
    return [
        Finding(
            "Which classes PCA separates",
            describe(
                arrays["separability"],
                metrics["knn_accuracy_2d"],
                int(metrics["knn_k"]),
                _classes(arrays),
                "the test set's projection on the first two principal components",
            ),
            "separability",
        )
    ]


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
