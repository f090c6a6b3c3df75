"""explore (experiments/explore.py): a dataset looked at before training. Its main numbers, figures (examples,
pixel histograms, class counts, PCA and the 2-D projection) and findings, from its files only."""

from __future__ import annotations

import csv

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.grids import image_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.report.draw.projections import projection_panel, separability_bars, separability_sentence
from mlplab.runs import Run

register_main_numbers("explore", "knn_accuracy_2d", "pca_components_for_90pct", "pca_components_for_99pct")

SCATTER_POINTS = 5000


@register_figures("explore")
def build(run: Run) -> None:
    arrays = run.path / "arrays"
    if (arrays / "examples.npz").is_file():
        ex = run.load_arrays("examples")
        classes = [str(c) for c in ex["classes"]]
        image_grid(
            ex["images"],
            run.figure("examples"),
            titles=[classes[i] for i in ex["labels"]],
            ncols=int(ex["per_class"]),
            title="training examples by class",
            scale=0.8,
        )
    if (arrays / "histograms.npz").is_file():
        histograms(run.load_arrays("histograms"), run)
    if (run.path / "tables" / "class_counts.csv").is_file():
        class_counts_figure(run)
    if (arrays / "pca.npz").is_file():
        pca_figures(run.load_arrays("pca"), run)
    if (arrays / "projection.npz").is_file():
        projection_figures(run.load_arrays("projection"), run)


def histograms(h: dict[str, np.ndarray], run: Run) -> None:
    fig = new_figure(9.0, 3.2)
    for i, (key, title) in enumerate((("raw", "raw pixels"), ("norm", f"normalised ({h['norm_kind']})"))):
        ax = fig.add_subplot(1, 2, i + 1)
        edges, counts = h[f"{key}_edges"], h[f"{key}_counts"]
        ax.stairs(counts, edges, fill=True)
        ax.set(yscale="log", xlabel="value", ylabel="count", title=f"{title}: [{edges[0]:.3g}, {edges[-1]:.3g}]")
    save(fig, run.figure("value_histograms"))


def class_counts_figure(run: Run) -> None:
    with open(run.path / "tables" / "class_counts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fig = new_figure(max(6.0, 0.5 * len(rows)), 3.4)
    ax = fig.add_subplot()
    pos = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for split in ("train", "val", "test"):
        counts = np.array([int(r[split]) for r in rows])
        ax.bar(pos, counts, bottom=bottom, label=split)
        bottom += counts
    ax.set(xticks=pos, ylabel="images", title="images per class")
    ax.set_xticklabels(
        [r["class"] for r in rows], rotation=45 if max(len(r["class"]) for r in rows) > 2 else 0, ha="right"
    )
    ax.legend(fontsize=8)
    save(fig, run.figure("class_counts"))


def pca_figures(p: dict[str, np.ndarray], run: Run) -> None:
    comps = p["components"]  # (k, C, H, W), unit vectors; shown on a symmetric scale around grey
    scale = np.abs(comps).reshape(len(comps), -1).max(1).reshape(-1, 1, 1, 1)
    image_grid(
        comps / (2 * np.maximum(scale, 1e-12)) + 0.5,
        run.figure("pca_components"),
        titles=[f"PC{i + 1} ({r:.1%})" for i, r in enumerate(p["explained_variance_ratio"][: len(comps)])],
        ncols=5,
        title="first principal components (red +, blue -)",
        cmap="RdBu_r",
    )
    ratio = p["explained_variance_ratio"]
    fig = new_figure(9.0, 3.4)
    ax = fig.add_subplot(1, 2, 1)
    shown = min(len(ratio), 50)
    ax.bar(np.arange(1, shown + 1), ratio[:shown])
    ax.set(xlabel="component", ylabel="share of variance", title=f"explained variance (first {shown})")
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(np.arange(1, len(ratio) + 1), np.cumsum(ratio))
    for share in (0.9, 0.99):
        n = int(np.searchsorted(np.cumsum(ratio), share - 1e-12)) + 1
        ax.axhline(share, color="grey", lw=0.6, ls="--")
        ax.annotate(f"{share:.0%}: {n}", (n, share), xytext=(5, -12), textcoords="offset points", fontsize=8)
    ax.set(
        xscale="log",
        xlabel="components",
        ylabel="cumulative share",
        title="cumulative explained variance",
        ylim=(0, 1.02),
    )
    ax.grid(alpha=0.3)
    save(fig, run.figure("pca_explained_variance"))


def projection_figures(p: dict[str, np.ndarray], run: Run) -> None:
    classes = [str(c) for c in p["classes"]]
    keep = np.random.default_rng(0).permutation(len(p["y"]))[:SCATTER_POINTS]
    fig = new_figure(6.5, 5.5)
    projection_panel(
        fig.add_subplot(),
        p["z"][keep],
        p["y"][keep],
        classes,
        "test set on the first two principal components",
        p["explained_ratio"],
    )
    save(fig, run.figure("pca_projection"))
    present = ~np.isnan(p["separability"])
    separability_bars(
        {"2-D PCA": p["separability"][present]},
        [c for c, k in zip(classes, present, strict=True) if k],
        run.figure("pca_separability"),
        "per-class kNN accuracy in the 2-D PCA projection",
    )


@register_findings("explore")
def explore(run: Run) -> list[Finding]:
    metrics = run.metrics
    if "knn_accuracy_2d" not in metrics:
        return []
    arrays = run.load_arrays("projection")
    return [
        Finding(
            "Which classes PCA separates",
            separability_sentence(
                arrays["separability"],
                metrics["knn_accuracy_2d"],
                int(metrics["knn_k"]),
                [str(c) for c in arrays["classes"]],
                "the test set's projection on the first two principal components",
            ),
            "separability",
        )
    ]
