"""Figures of the scratch-engine runs (gradcheck, moons, scratch-mnist), from their run folders only."""

from __future__ import annotations

import csv

import numpy as np

from mlplab.analysis.scratch_vs_torch import AUTOGRAD_PASS, TWIN_PASS
from mlplab.report import register_figures
from mlplab.report.plots import confusion_figure, confusion_matrix, curves, new_figure, save
from mlplab.runs import Run


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


@register_figures("scratch-mnist")
def scratch_mnist_figures(run: Run) -> None:
    history = run.history
    curves(history, ["train_loss", "val_loss", "test_loss"], "loss", run.figure("loss_curves"), ylabel="cross-entropy")
    curves(history, ["val_accuracy", "test_accuracy"], "accuracy", run.figure("accuracy_curves"), ylabel="accuracy")
    if (run.path / "arrays" / "predictions.npz").is_file():
        p = run.load_arrays("predictions")
        classes = [str(c) for c in p["classes"]]
        cm = confusion_matrix(p["y_true"].astype(np.int64), p["probs"].argmax(1), len(classes))
        confusion_figure(cm, classes, run.figure("confusion_matrix"))


def log10_or_nan(a: np.ndarray) -> np.ndarray:
    """log10 of finite positive values; NaN for zero, inf or NaN (they are marked separately)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & (a > 0)
    out[ok] = np.log10(a[ok])
    return out
