"""ae-sparse (experiments/autoencoders/sparse.py): autoencoders under an L1 penalty on the code. Its main numbers,
figures and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import arrays, filter_figures, loss_curves, table_rows
from mlplab.report.draw.grids import rows_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-sparse", "mse_*")


@register_figures("ae-sparse")
def figures(run: Run) -> None:
    loss_curves(run)
    act = arrays(run, "activations")
    if act is None:
        return
    names, side = [str(n) for n in act["names"]], int(act["side"])
    table = {
        n: {k: run.metrics.get(f"{k}_{n}") for k in ("sse_per_image", "active_fraction", "mean_activation")}
        for n in names
    }
    fig = new_figure(11.0, 3.4)
    for i, (key, label) in enumerate(
        (
            ("sse_per_image", "squared error per test image"),
            ("active_fraction", "fraction of activations > threshold"),
            ("mean_activation", "mean hidden activation"),
        )
    ):
        ax = fig.add_subplot(1, 3, i + 1)
        bars = ax.bar(names, [table[n][key] or 0 for n in names], color=["C7"] + ["C0"] * (len(names) - 1))
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
        ax.set(title=label)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    save(fig, run.figure("sparsity"))
    codes = act["codes"]  # (models, shown, hidden)
    pad = side * side - codes.shape[-1]
    maps = np.pad(codes, [(0, 0), (0, 0), (0, pad)]).reshape(*codes.shape[:2], side, side)
    rows = [("input", act["original"])]
    for i, n in enumerate(names):
        top = max(float(np.percentile(maps[i], 99)), 1e-12)
        rows.append((n, np.clip(maps[i] / top, 0, 1)))
    rows_grid(
        rows,
        run.figure("activation_maps"),
        f"hidden activations as {side}×{side} maps (white = the row's 99th percentile or more; black = off)",
    )
    filter_figures(run, {n: n for n in names})


@register_findings("ae-sparse")
def findings(run: Run) -> list[Finding]:
    rows = table_rows(run, "sparsity")
    if not rows:
        return []
    base = rows[0]
    parts = [
        f"{r['model']}: {100 * r['active_fraction']:.1f}% of activations on, mean activation "
        f"{r['mean_activation']:.3f}, error {r['sse_per_image']:.2f} per image"
        for r in rows
    ]
    costlier = [r["model"] for r in rows[1:] if r["sse_per_image"] > base["sse_per_image"]]
    cost = (
        f"Error above the standard AE's: {', '.join(costlier)}."
        if costlier
        else "Every penalised AE also reconstructs at least as well as the standard one here (the penalty "
        "regularises as well as it sparsifies)."
    )
    return [
        Finding(
            "What the L1 penalty does",
            "Stronger L1 switches more hidden units off for each image. " + "; ".join(parts) + ". " + cost,
            "sparsity",
        )
    ]
