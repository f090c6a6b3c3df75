"""moons (experiments/scratch/moons.py): the NumPy engine on two moons, and a depth study of initialisations. Its
main numbers, figures and findings, from its run folder only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.curves import curves
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("moons", "test_accuracy", "deep_normal_test_accuracy", "deep_he_test_accuracy")


@register_figures("moons")
def moons_figures(run: Run) -> None:
    history = run.history
    curves(
        history,
        ["train_loss", "test_loss"],
        "loss (hidden network)",
        run.figure("loss_curves"),
        ylabel="cross-entropy",
        logy=True,
    )
    if (run.path / "arrays" / "boundary.npz").is_file():
        boundary_figure(run.load_arrays("boundary"), run)
    if (run.path / "arrays" / "depth_study.npz").is_file():
        depth_figures(run.load_arrays("depth_study"), run)


def boundary_figure(b: dict[str, np.ndarray], run: Run) -> None:
    fig = new_figure(6.0, 5.0)
    ax = fig.add_subplot()
    cs = ax.contourf(b["grid_x"], b["grid_y"], b["prob"], levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(b["grid_x"], b["grid_y"], b["prob"], levels=[0.5], colors="k", linewidths=1.5)
    x, y, pred = b["x_test"], b["y_test"], b["pred_test"]
    for c, color in ((0, "C0"), (1, "C3")):
        ax.scatter(*x[y == c].T, s=4, color=color, label=f"class {c} (test)")
    wrong = pred != y
    ax.scatter(*x[wrong].T, s=40, facecolors="none", edgecolors="k", label=f"misclassified ({wrong.sum()})")
    fig.colorbar(cs, ax=ax, label="P(class 1)")
    ax.set(title=f"decision boundary, test accuracy {1 - wrong.mean():.2%}", xlabel="x1", ylabel="x2")
    ax.legend(fontsize=7, loc="lower left")
    save(fig, run.figure("decision_boundary"))


def depth_figures(d: dict[str, np.ndarray], run: Run) -> None:
    layers = [str(n) for n in d["layers"]]
    fig = new_figure(6.5, 4.0)
    ax = fig.add_subplot()
    for key, label in (("deep_normal_", "standard-normal init"), ("deep_he_", "He init")):
        loss = d[f"{key}loss"]
        ax.plot(np.arange(1, len(loss) + 1), loss, lw=1, label=label, marker="o" if len(loss) < 50 else None)
        if len(loss) and not np.isfinite(loss[-1]):
            ax.axvline(len(loss), color="k", ls=":", label=f"overflow at step {len(loss)}")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="SGD step",
        ylabel="batch loss",
        title=f"depth study: {sum(n.startswith('fc') for n in layers)} hidden layers",
    )
    ax.legend()
    save(fig, run.figure("depth_loss"))

    fig = new_figure(11.0, 4.2)
    pos = np.arange(len(layers))
    for col, (part, what) in enumerate(
        (("act_rms", "activation RMS (forward)"), ("grad_rms", "RMS of dL/d(output) (backward)"))
    ):
        ax = fig.add_subplot(1, 2, col + 1)
        normal, he = log10_or_nan(d[f"deep_normal_{part}"]), log10_or_nan(d[f"deep_he_{part}"])
        finite = [v for v in (normal, he) if np.isfinite(v).any()]
        top = max(np.nanmax(v) for v in finite) + 15 if finite else 1.0
        shown = np.unique(np.linspace(0, len(normal) - 1, min(len(normal), 5)).astype(int))  # a legend that fits
        for s in shown:
            ax.plot(
                pos,
                normal[s],
                marker="o",
                ms=3,
                color="C3",
                alpha=0.35 + 0.65 * (s + 1) / len(normal),
                label=f"normal init, step {s + 1}",
            )
            over = np.isinf(d[f"deep_normal_{part}"][s])
            if over.any():
                ax.scatter(
                    pos[over],
                    np.full(over.sum(), top),
                    marker="^",
                    color="k",
                    zorder=3,
                    label=f"overflow (inf) at step {s + 1}",
                )
        if len(he):
            ax.plot(pos, he[0], marker="s", ms=3, color="C0", label="He init, step 1")
            ax.plot(pos, he[-1], marker="s", ms=3, color="C2", label=f"He init, step {len(he)}")
        ax.set(xticks=pos, title=what, ylabel="log10 RMS")
        ax.set_xticklabels(layers, rotation=60, fontsize=7)
        ax.grid(alpha=0.3)
        if col == 0:
            ax.legend(fontsize=6)
    save(fig, run.figure("depth_norms"))
    curves(
        run.history,
        ["deep_he_train_loss", "deep_he_test_loss"],
        "depth study: He-initialised network",
        run.figure("depth_he_curves"),
        ylabel="cross-entropy",
        logy=True,
    )


def log10_or_nan(a: np.ndarray) -> np.ndarray:
    """log10 of finite positive values; NaN for zero, inf or NaN (they are marked separately)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & (a > 0)
    out[ok] = np.log10(a[ok])
    return out


def why_it_diverged(names: list[str], act, grad, loss, step: int, where: str, layer: str, width: int) -> str:
    """Where and why, in numbers read off the per-step norms of the network that overflowed."""
    first_act = act[0]
    fc = [i for i, n in enumerate(names) if n.startswith("fc")]
    growth = (first_act[fc[-1]] / first_act[fc[0]]) ** (1 / max(len(fc) - 1, 1)) if first_act[fc[0]] else float("nan")
    first_grad = grad[0]
    return (
        f"With weights drawn from a standard normal, "
        f"each {width}-wide layer multiplies the size of its "
        f"signal by about {growth:.1f} (He init keeps it near 1: its variance 2/fan_in is what makes the "
        f"product of gains 1). At step 1 the RMS activation grows from {first_act[fc[0]]:.3g} after "
        f"{names[fc[0]]} to {first_act[-1]:.3g} at the logits, and the loss is {loss[0]:.3g}; "
        f"the gradient grows the same way going backwards, from {first_grad[-1]:.3g} at the logits to "
        f"{first_grad[0]:.3g} at {names[0]}. One SGD step with such gradients moves the first layers' "
        f"weights by orders of magnitude, the next forward pass multiplies the larger weights again, and at "
        f"step {step} the {where} of {layer} overflowed to inf (float limits) — training stopped there "
        f"rather than continue on NaN. The He-initialised network of the same depth trains normally."
    )


@register_findings("moons")
def moons(run: Run) -> list[Finding]:
    m = run.metrics
    if "deep_normal_diverged" not in m:
        return []
    a = run.load_arrays("depth_study")
    names = [str(n) for n in a["layers"]]
    diverged = [key for key in ("deep_normal_", "deep_he_") if m.get(f"{key}diverged")]
    if diverged:
        key = diverged[-1]
        return [
            Finding(
                "Why the standard-normal network blew up",
                why_it_diverged(
                    names,
                    a[f"{key}act_rms"],
                    a[f"{key}grad_rms"],
                    a[f"{key}loss"],
                    m[f"{key}diverged_at_step"],
                    m[f"{key}diverged_in"],
                    m[f"{key}diverged_layer"],
                    int(run.config["deep_width"]),
                ),
                "depth_study",
            )
        ]
    act = a["deep_normal_act_rms"]
    return [
        Finding(
            "Depth study",
            (
                f"In this run the standard-normal network did not overflow; it reached test accuracy "
                f"{m['deep_normal_test_accuracy']:.2%} against {m['deep_he_test_accuracy']:.2%} with He init. "
                f"Its activation RMS at step 1 grew from {act[0][0]:.3g} (fc1) to "
                f"{act[0][-1]:.3g} (logits); see the per-layer norms figure."
            ),
            "depth_study",
        )
    ]
