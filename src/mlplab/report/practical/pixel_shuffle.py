"""pixel-shuffle (experiments/practical/pixel_shuffle.py): an MLP on pixels shuffled in several ways. Its main
numbers, figures and findings, from its files only."""

from __future__ import annotations

from mlplab.analysis.spread import Spread, beyond_noise, spread
from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.curves import mean_curves, plot_curves
from mlplab.report.draw.grids import image_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers(
    "pixel-shuffle",
    "none/mean_test_accuracy",
    "fixed/mean_test_accuracy",
    "per-image/mean_test_accuracy",
    "sorted/mean_test_accuracy",
)


def by_mode(run: Run) -> dict[str, Spread]:
    """mode -> spread of the test accuracy over seeds, from the per-seed table."""
    rows = run.load_table("per_seed")
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    return {m: spread(float(r["test_accuracy"]) for r in rows if r["mode"] == m) for m in modes}


@register_figures("pixel-shuffle")
def build(run: Run) -> None:
    rows, history = run.load_table("per_seed"), run.history
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    modes = {
        m: [f"{m}-seed{r['seed']}" for r in rows if r["mode"] == m] for m in dict.fromkeys(r["mode"] for r in rows)
    }
    labels = {m: f"{m} ({len(seeds)} seeds)" for m, seeds in modes.items()}
    plot_curves(ax, mean_curves(history, "val_accuracy", modes), marker="o", ms=3, labels=labels, band=True)
    ax.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy (mean; band: min-max over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, run.figure("curves"))
    a = run.load_arrays("examples")
    images = a["images"] * a["std"].reshape(1, 1, -1, 1, 1) + a["mean"].reshape(1, 1, -1, 1, 1)  # (modes, 8, C, H, W)
    titles = [str(m) if i == 0 else "" for m in a["modes"] for i in range(images.shape[1])]
    image_grid(
        images.reshape(-1, *images.shape[2:]),
        run.figure("examples"),
        titles=titles,
        ncols=images.shape[1],
        title="test images as each mode shows them",
    )


@register_findings("pixel-shuffle")
def pixel_shuffle(run: Run) -> list[Finding]:
    s = by_mode(run)
    if not s:
        return []
    table = "; ".join(f"{m}: {v.text('.2%')}" for m, v in s.items())
    out = [Finding("Test accuracy by mode", table, "per_seed")]
    if "none" in s and "fixed" in s:
        gap = s["fixed"].mean - s["none"].mean
        differs = beyond_noise(s["fixed"], s["none"])
        meaning = (
            "An MLP's first layer gives each input position its own weights and nothing ties neighbouring "
            "positions together, so a fixed reordering of the pixels is only a reordering of its weight rows: "
            "the MLP does not use the spatial arrangement it is given, only which pixel is which."
            if not differs
            else "A difference beyond the noise is not what the symmetry argument predicts (a fixed reordering is "
            "a reordering of the first layer's weight rows); with more seeds or epochs it should shrink."
        )
        out.append(
            Finding(
                "One fixed permutation",
                f"A fixed permutation changes the accuracy by {gap * 100:+.2f} "
                f"points ({'beyond' if differs else 'within'} the seed noise). {meaning}",
                "per_seed",
            )
        )
    lost = [m for m in ("per-batch", "per-image") if m in s]
    if lost and "none" in s:
        parts = [f"{m} {s[m].mean:.2%}" for m in lost]
        text = (
            f"With a new permutation per batch or image ({', '.join(parts)} vs {s['none'].mean:.2%} unshuffled) "
            "a pixel's position carries no information any more: the network can use only what survives any "
            "permutation, the image's bag of intensities."
        )
        if "sorted" in s:
            text += (
                f" A classifier on the sorted pixel values (the intensity histogram, which no permutation can "
                f"hurt) reaches {s['sorted'].mean:.2%}: that is roughly what is left to learn once positions "
                "are gone, and how far it sits below no shuffle measures what the identity of each pixel "
                "position is worth."
            )
        out.append(Finding("New permutations", text, "per_seed"))
    return out
