"""ae-pca (experiments/autoencoders/pca.py): PCA against autoencoders of the same code sizes. Its main numbers,
figures and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import arrays, loss_curves, table_rows
from mlplab.report.draw.grids import rows_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-pca", "ae_mse_k*", "pca_mse_k*")


@register_figures("ae-pca")
def figures(run: Run) -> None:
    loss_curves(run)
    errors = arrays(run, "errors")
    if errors is None:
        return
    ks, d = errors["ks"], int(np.prod(arrays(run, "reconstructions")["original"].shape[1:]))
    fig = new_figure(6.5, 4.2)
    ax = fig.add_subplot()
    for kind, color in (("pca", "C0"), ("ae", "C3")):
        mean = errors[f"{kind}_sse"].mean(1)
        ax.plot(ks, mean, marker="o", color=color, label=kind.upper())
        for k, v in zip(ks, mean, strict=True):
            ax.annotate(f"{v:.2f}", (k, v), textcoords="offset points", xytext=(4, 4), fontsize=7, color=color)
    ax.set(
        xlabel="code size k",
        ylabel="summed squared error per test image",
        title="PCA vs autoencoder: test reconstruction error",
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.secondary_yaxis("right", functions=(lambda s: s / d, lambda m: m * d)).set_ylabel("mean squared error per pixel")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, run.figure("error_vs_k"))
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    data, labels = [], []
    for i, k in enumerate(ks):
        data += [errors["pca_sse"][i], errors["ae_sse"][i]]
        labels += [f"PCA k={k}", f"AE k={k}"]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="squared error per test image", title="per-image errors (whiskers 1.5 IQR, outliers hidden)")
    ax.grid(alpha=0.3, axis="y")
    save(fig, run.figure("per_image_errors"))
    rec = arrays(run, "reconstructions")
    rows = [("original", rec["original"])]
    for i, k in enumerate(rec["ks"]):
        rows += [(f"AE k={k}", rec["ae"][i]), (f"PCA k={k}", rec["pca"][i])]
    rows_grid(rows, run.figure("reconstructions"), "one test image of each class: AE and PCA reconstructions")


@register_findings("ae-pca")
def findings(run: Run) -> list[Finding]:
    rows, metrics = table_rows(run, "errors_by_k"), run.metrics
    if not rows or "pca_fit_images" not in metrics:
        return []
    parts = [
        f"k={r['k']}: PCA {r['pca_sse_per_image']:.2f}, AE {r['ae_sse_per_image']:.2f} "
        f"({100 * (1 - r['ae_over_pca']):.0f}% lower)"
        if r["ae_over_pca"] < 1
        else f"k={r['k']}: PCA {r['pca_sse_per_image']:.2f}, AE {r['ae_sse_per_image']:.2f} (PCA better)"
        for r in rows
    ]
    return [
        Finding(
            "PCA vs autoencoder",
            (
                f"Summed squared error per test image ({metrics['test_images']} images; per pixel = per image / "
                "number of "
                f"pixels). PCA is mean-centred and fitted on all {metrics['pca_fit_images']} training images "
                "(validation "
                f"included); the AE trains on the training split only. " + "; ".join(parts) + "."
            ),
            "errors_by_k",
        )
    ]
