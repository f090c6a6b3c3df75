"""gradcheck (experiments/scratch/gradcheck.py): the scratch engine's gradients against torch.autograd and central
differences, and a twin run against torch.nn. Its main numbers, figures and findings, from its tables and arrays."""

from __future__ import annotations

import csv

import numpy as np

from mlplab.analysis.constants import AUTOGRAD_PASS, TWIN_PASS
from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("gradcheck", "max_rel_error_autograd", "max_rel_error_finite_diff", "twin_max_rel_diff")


@register_figures("gradcheck")
def gradcheck_figures(run: Run) -> None:
    table = run.path / "tables" / "gradient_check.csv"
    if table.is_file():
        with open(table) as fh:
            rows = list(csv.DictReader(fh))
        fig = new_figure(8.0, 0.35 * len(rows) + 1.4)
        ax = fig.add_subplot()
        pos = np.arange(len(rows))
        floor = 1e-18  # exact agreement (0) drawn at the floor of the log axis
        for off, key, label in (
            (-0.2, "max_rel_error_autograd", "vs torch.autograd"),
            (0.2, "max_rel_error_finite_diff", "vs central differences"),
        ):
            ax.barh(pos + off, [max(float(r[key]), floor) for r in rows], 0.4, label=label)
        ax.axvline(AUTOGRAD_PASS, color="k", ls="--", lw=1, label=f"pass mark {AUTOGRAD_PASS:g}")
        ax.set_xscale("log")
        ax.set(
            yticks=pos,
            xlabel="max relative error (exact agreement drawn at 1e-18)",
            title="hand-written gradients vs references (float64)",
        )
        ax.set_yticklabels([r["component"] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=8)
        save(fig, run.figure("gradient_errors"))
    if (run.path / "arrays" / "twin_run.npz").is_file():
        twin = run.load_arrays("twin_run")
        a, b = twin["scratch_loss"], twin["torch_loss"]
        steps = np.arange(1, len(a) + 1)
        fig = new_figure(10.0, 3.6)
        ax = fig.add_subplot(1, 2, 1)
        ax.plot(steps, b, lw=3, alpha=0.4, label="torch.nn + torch.optim.SGD")
        ax.plot(steps, a, lw=1, label="scratch (NumPy)")
        ax.set(xlabel="step", ylabel="batch loss", title="twin run: the same weights, the same batches")
        ax.legend()
        ax = fig.add_subplot(1, 2, 2)
        ax.semilogy(steps, np.maximum(np.abs(a - b) / np.abs(b), 1e-18))
        ax.axhline(TWIN_PASS, color="k", ls="--", lw=1, label=f"pass mark {TWIN_PASS:g}")
        ax.set(xlabel="step", ylabel="|scratch - torch| / |torch|", title="relative loss difference")
        ax.legend()
        save(fig, run.figure("twin_run"))


@register_findings("gradcheck")
def gradcheck(run: Run) -> list[Finding]:
    m, cfg, rows = run.metrics, run.config, run.load_table("gradient_check")
    if "twin_examples" not in m or not rows:
        return []
    worst = max(rows, key=lambda r: float(r["max_rel_error_autograd"]))["component"]
    return [
        Finding(
            "Gradient check",
            (
                f"{m['components_checked']} components checked in float64. Largest relative error against "
                "torch.autograd: "
                f"{m['max_rel_error_autograd']:.2g} ({worst}; pass mark {AUTOGRAD_PASS:g}); against central "
                "differences "
                f"(h={cfg['step']:g}): {m['max_rel_error_finite_diff']:.2g}, the truncation and rounding error of the "
                f"differences themselves. Relative error = max |hand - reference| / max |reference| over each gradient "
                f"array. Twin run: {cfg['twin_steps']} SGD steps of the scratch MLP and torch.nn's MLP from the "
                "same weights "
                f"on the same batches of {m['twin_examples']} {cfg['dataset']} examples; largest relative loss "
                "difference "
                f"{m['twin_max_rel_diff']:.2g} (pass mark {TWIN_PASS:g})."
            ),
            "gradient_check",
        )
    ]
