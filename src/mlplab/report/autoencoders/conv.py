"""ae-conv (experiments/autoencoders/conv.py): convolutional against MLP autoencoders. Its main numbers, figures
and findings, from its files only."""

from __future__ import annotations

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import reconstruction_rows, table_rows
from mlplab.report.draw.curves import model_curves
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-conv", "conv_*_test_mse", "mlp_*_test_mse")


@register_figures("ae-conv")
def figures(run: Run) -> None:
    rows = run.load_table("models")
    model_curves(
        run.history,
        "val_mse",
        "validation error",
        run.figure("loss_curves"),
        "mean squared error per pixel",
        models=[r["model"] for r in rows],
        size=(6.5, 4.0),
        unnamed="autoencoder",
    )
    if rows:
        fig = new_figure(7.0, 4.0)
        ax = fig.add_subplot()
        for r in rows:
            ax.scatter(int(r["parameters"]), float(r["test_sse_per_image"]), s=40)
            ax.annotate(
                r["model"],
                (int(r["parameters"]), float(r["test_sse_per_image"])),
                fontsize=8,
                xytext=(4, 4),
                textcoords="offset points",
            )
        ax.set(
            xscale="log",
            xlabel="parameters",
            ylabel="test squared error per image",
            title="reconstruction error against size",
        )
        ax.grid(alpha=0.3)
        save(fig, run.figure("error_vs_parameters"))
    if (run.path / "arrays" / "reconstructions.npz").is_file():
        a = run.load_arrays("reconstructions")
        n = len(a["original"])
        rows = [(a["original"], ["original"] * n)]
        rows += [(a[f"recon_{i}"], [str(name)] * n) for i, name in enumerate(a["names"])]
        reconstruction_rows(run, rows, "test images (top row) and each model's reconstruction")


@register_findings("ae-conv")
def findings(run: Run) -> list[Finding]:
    rows = table_rows(run, "models")
    if not rows:
        return []
    code_numbers = next(r["code_numbers"] for r in rows if str(r["model"]).startswith("conv_"))
    best = min(rows, key=lambda r: r["test_sse_per_image"])
    text = "; ".join(
        f"{r['model']} {r['test_sse_per_image']:.2f} per image ({r['parameters']:,} parameters)" for r in rows
    )
    return [
        Finding(
            "Convolutional decoders",
            (
                f"Test squared error per image: {text}. Lowest: {best['model']}. The conv code holds {code_numbers} "
                "numbers; the unpool and both decoders also receive the pooling indices (where each maximum was), "
                "side information that a code of the same size alone does not carry. The MLP AEs have a linear code "
                "layer and a sigmoid output."
            ),
            "models",
        )
    ]
