"""classify (experiments/classify.py): an MLP classifier. Its main numbers, figures (curves, confusions, per-class
precision/recall, confused pairs, layer views) and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.curves import curves
from mlplab.report.draw.plots import confusion_figure, confusion_matrix, new_figure, save
from mlplab.report.draw.projections import projection_panel, separability_bars, separability_sentence
from mlplab.runs import Run

register_main_numbers("classify", "test_accuracy", "test_loss", "best_val_accuracy", "train_seconds")

SCATTER_POINTS = 3000


@register_figures("classify")
def build(run: Run) -> None:
    history = run.history
    curves(history, ["train_loss", "val_loss"], "loss", run.figure("loss_curves"), ylabel="cross-entropy")
    curves(history, ["train_accuracy", "val_accuracy"], "accuracy", run.figure("accuracy_curves"), ylabel="accuracy")
    arrays_dir = run.path / "arrays"
    if (arrays_dir / "predictions.npz").is_file():
        arrays = run.load_arrays("predictions")
        classes = [str(c) for c in arrays["classes"]]
        y_true, pred = arrays["y_true"].astype(np.int64), arrays["probs"].argmax(1)
        cm = confusion_matrix(y_true, pred, len(classes))
        confusion_figure(cm, classes, run.figure("confusion_matrix"))
        precision_recall_figure(cm, classes, run)
    if (arrays_dir / "confused_pairs.npz").is_file():
        confused_gallery(run.load_arrays("confused_pairs"), run)
    if (arrays_dir / "layers.npz").is_file():
        layer_figures(run.load_arrays("layers"), run)


def precision_recall_figure(cm: np.ndarray, classes: list[str], run: Run) -> None:
    tp = np.diag(cm).astype(float)
    precision, recall = tp / np.maximum(cm.sum(0), 1), tp / np.maximum(cm.sum(1), 1)
    fig = new_figure(max(6.0, 0.5 * len(classes)), 3.6)
    ax = fig.add_subplot()
    pos = np.arange(len(classes))
    ax.bar(pos - 0.2, precision, 0.4, label="precision")
    ax.bar(pos + 0.2, recall, 0.4, label="recall")
    low = min(precision.min(), recall.min())
    ax.set(xticks=pos, ylim=(max(0.0, low - 0.05), 1.0), title="per-class precision and recall (test)")
    ax.set_xticklabels(classes, rotation=45 if max(map(len, classes)) > 2 else 0, ha="right")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    save(fig, run.figure("precision_recall"))


def confused_gallery(arrays: dict[str, np.ndarray], run: Run) -> None:
    """One row per confused pair: its misclassified test images, titled true -> predicted."""
    images, pairs = arrays["images"], arrays["pairs"]
    if not len(pairs) or images.ndim != 4:
        return
    classes = [str(c) for c in arrays["classes"]]
    ncols = max(int(np.bincount(arrays["pair"]).max()), 6)
    fig = new_figure(1.1 * ncols + 0.6, 1.3 * len(pairs) + 0.5)
    for p, (a, b, count) in enumerate(pairs):
        for j, i in enumerate(np.flatnonzero(arrays["pair"] == p)):
            ax = fig.add_subplot(len(pairs), ncols, p * ncols + j + 1)
            img = images[i].transpose(1, 2, 0)
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            ax.spines[:].set_visible(False)
            ax.set_title(f"{classes[arrays['true'][i]]}→{classes[arrays['pred'][i]]}", fontsize=7)
            if j == 0:
                ax.set_ylabel(f"{classes[a]} / {classes[b]}\n{count} error{'s' if count != 1 else ''}", fontsize=8)
    fig.suptitle("most-confused class pairs: misclassified test images (true→predicted)")
    save(fig, run.figure("confused_pairs"))


def layer_figures(arrays: dict[str, np.ndarray], run: Run) -> None:
    names = [str(n) for n in arrays["names"]]
    classes = [str(c) for c in arrays["classes"]]
    y = arrays["y"]
    keep = np.random.default_rng(0).permutation(len(y))[:SCATTER_POINTS]
    fig = new_figure(4.0 * len(names), 4.2)
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        projection_panel(
            ax,
            arrays[f"z_{name}"][keep],
            y[keep],
            classes,
            f"{name}: class-mean kNN {np.nanmean(arrays[f'sep_{name}']):.0%}",
            arrays[f"ratio_{name}"],
            legend=i == len(names) - 1,
        )
    fig.suptitle("test activations on each layer's first two principal components")
    save(fig, run.figure("layer_projections"))
    separability_bars(
        {n: arrays[f"sep_{n}"] for n in names},
        classes,
        run.figure("layer_separability"),
        "per-class kNN accuracy in each layer's 2-D projection",
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
                separability_sentence(
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
