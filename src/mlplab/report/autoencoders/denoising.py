"""ae-denoising (experiments/autoencoders/denoising.py): denoising against standard autoencoders. Its main numbers,
figures and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import arrays, filter_figures, loss_curves, table_rows
from mlplab.report.draw.grids import rows_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-denoising", "denoising_sse_per_image_*", "improvement_*")


@register_figures("ae-denoising")
def figures(run: Run) -> None:
    loss_curves(run)
    den = arrays(run, "denoised")
    if den is None:
        return
    names, metrics = [str(n) for n in den["names"]], run.metrics
    fig = new_figure(max(6.0, 1.1 * len(names) + 2), 4.0)
    ax = fig.add_subplot()
    width = 0.27
    for j, (who, color) in enumerate((("noisy", "C7"), ("standard", "C0"), ("denoising", "C3"))):
        values = [metrics.get(f"{who}_sse_per_image_{n}", np.nan) for n in names]
        ax.bar(
            np.arange(len(names)) + (j - 1) * width,
            values,
            width,
            color=color,
            label={"noisy": "noisy input", "standard": "standard AE", "denoising": "denoising AE"}[who],
        )
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="squared error per test image vs the clean image", title="denoising vs standard AE")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    save(fig, run.figure("denoising_errors"))
    for i, n in enumerate(names):
        rows_grid(
            [
                ("clean", den["original"]),
                ("noisy", den["noisy"][i]),
                ("standard AE", den["standard"][i]),
                ("denoising AE", den["denoising"][i]),
            ],
            run.figure(f"denoised_{n}"),
            f"noise {n}",
        )
    filter_figures(run, {n: f"{n} AE" for n in ["standard", *names]})


@register_findings("ae-denoising")
def findings(run: Run) -> list[Finding]:
    rows = table_rows(run, "denoising")
    if not rows:
        return []
    return [
        Finding(
            "Denoising vs standard AE",
            "Summed squared error per test image against the clean image, "
            "on the same noisy inputs: "
            + "; ".join(
                f"{r['noise']}: standard {r['standard_sse_per_image']:.2f}, denoising "
                f"{r['denoising_sse_per_image']:.2f} ({100 * r['improvement']:.0f}% lower)"
                for r in rows
            )
            + ".",
            "denoising",
        )
    ]
