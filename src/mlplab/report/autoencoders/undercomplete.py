"""ae-undercomplete (experiments/autoencoders/undercomplete.py): autoencoders by hidden size. Its main numbers,
figures and findings, from its files only."""

from __future__ import annotations

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import arrays, filter_figures, table_rows
from mlplab.report.draw.curves import model_curves
from mlplab.report.draw.grids import rows_grid
from mlplab.runs import Run

register_main_numbers("ae-undercomplete", "mse_h*")


@register_figures("ae-undercomplete")
def figures(run: Run) -> None:
    history = run.history
    for split in ("train", "val"):
        model_curves(
            history, f"{split}_loss", f"{split} loss by hidden size", run.figure(f"{split}_loss_curves"), "loss"
        )
    rec = arrays(run, "reconstructions")
    if rec is None:
        return
    rows = [("original", rec["original"])] + [(f"h={h}", rec["recon"][i]) for i, h in enumerate(rec["hs"])]
    rows_grid(rows, run.figure("reconstructions"), "reconstructions by hidden size")
    filter_figures(run, {f"h{h}": f"h={h}" for h in rec["hs"]})


@register_findings("ae-undercomplete")
def findings(run: Run) -> list[Finding]:
    rows = table_rows(run, "errors_by_h")
    if not rows:
        return []
    best = min(rows, key=lambda r: r["sse_per_image"])
    return [
        Finding(
            "Width of the code",
            "Summed squared error per test image: "
            + ", ".join(f"h={r['h']}: {r['sse_per_image']:.2f}" for r in rows)
            + f". "
            f"h={best['h']} has the lowest error. The filters are the encoder's weights, one input-shaped image "
            "per unit; "
            "the noise-like ones belong to dead units ("
            + ", ".join(f"h={r['h']}: {r['dead_units']}" for r in rows)
            + " never active on a test image), which kept their random initial weights.",
            "errors_by_h",
        )
    ]
