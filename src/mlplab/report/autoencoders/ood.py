"""ae-ood (experiments/autoencoders/ood.py): out-of-distribution images told apart by reconstruction error. Its
main numbers, figures and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import autoencoder_curves, reconstruction_rows, table_rows
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-ood", "auroc_noise", "mean_error_in_distribution", "mean_error_noise")


@register_figures("ae-ood")
def figures(run: Run) -> None:
    autoencoder_curves(run)
    if not (run.path / "arrays" / "ood.npz").is_file():
        return
    a = run.load_arrays("ood")
    names = [str(n) for n in a["sources"]]
    errors = [a[f"errors_{i}"] for i in range(len(names))]
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    low = max(min(float(e.min()) for e in errors), 1e-6)
    high = max(float(e.max()) for e in errors)
    bins = np.geomspace(low, high * 1.01, 60)
    for name, e in zip(names, errors, strict=True):
        ax.hist(
            e,
            bins=bins,
            weights=np.full(len(e), 1 / len(e)),
            histtype="step",
            linewidth=1.5,
            label=f"{name} ({len(e)} images)",
        )
    ax.set(
        xscale="log",
        xlabel="reconstruction error (mean squared error per pixel)",
        ylabel="share of images",
        title="reconstruction errors by source",
    )
    ax.legend(fontsize=8)
    save(fig, run.figure("error_histogram"))
    rows = []
    for i, name in enumerate(names):
        rows += [
            (a[f"shown_{i}"], [name] * len(a[f"shown_{i}"])),
            (a[f"shown_recon_{i}"], [f"recon {e:.3f}" for e in a[f"shown_err_{i}"]]),
        ]
    reconstruction_rows(run, rows, "per source: inputs, then the AE's reconstructions (titles: error per pixel)")


@register_findings("ae-ood")
def findings(run: Run) -> list[Finding]:
    metrics, rows = run.metrics, table_rows(run, "sources")
    if not rows:
        return []
    out = []
    if "model_class" in metrics:
        out.append(
            Finding(
                "Model",
                f"The autoencoder comes from {run.config['model']} ({metrics['model_class']}); "
                f"in distribution is its training dataset, {metrics['in_distribution']!r}.",
            )
        )
    first = rows[0]
    false_alarms = first["flagged_at_5pct_false_alarms"]
    parts = [f"In distribution ({first['source']}): mean reconstruction error {first['mean_error']:.4f} per pixel."]
    for r in rows[1:]:
        parts.append(
            f"{r['source']}: mean error {r['mean_error']:.4f}, AUROC {r['auroc']:.3f} by reconstruction error "
            f"alone; at the threshold that flags {false_alarms:.0%} of {first['source']} test images, "
            f"{r['flagged_at_5pct_false_alarms']:.1%} of them are flagged."
        )
    for name, why in metrics.get("skipped_because", {}).items():
        parts.append(f"{name} was skipped: {why.split(';')[0]}.")
    out.append(Finding("Out of distribution by reconstruction error", " ".join(parts), "sources"))
    return out
