"""optimizers (experiments/practical/optimizers.py): SGD, momentum and Adam on 2-D surfaces and on an MLP. Its main
numbers, figures, trajectory animation and findings, from its arrays and tables only."""

from __future__ import annotations

import math

import numpy as np

from mlplab.analysis.constants import STEEP_OPTIMA
from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.animation import animate
from mlplab.report.draw.curves import mean_curves, plot_curves
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers(
    "optimizers", "network/Adam/test_accuracy", "network/SGDMomentum/test_accuracy", "network/SGD/test_accuracy"
)

COLORS = {"SGD": "tab:red", "SGDMomentum": "tab:blue", "Adam": "tab:green"}
FRAMES = 26


def surfaces(run: Run) -> list[str]:
    return [p.stem.removeprefix("surface_") for p in sorted((run.path / "arrays").glob("surface_*.npz"))]


@register_figures("optimizers")
def build(run: Run) -> None:
    for name in surfaces(run):
        a = run.load_arrays(f"surface_{name}")
        trajs = {str(o): a[f"traj_{o}"] for o in a["optimizers"]}
        contour(a["grid"], a["extent"], trajs, f"{name}: {a['formula']}", run.figure(f"{name}_2d"))
        surface_3d(a["grid"], a["extent"], trajs, name, run.figure(f"{name}_3d"))
        trajectories(a["grid"], a["extent"], trajs, name, run.path / "animations" / f"{name}_trajectories")
    network_curves(run)


def _axes_2d(ax, grid: np.ndarray, extent: np.ndarray) -> None:
    ax.contourf(
        np.linspace(extent[0], extent[1], grid.shape[1]),
        np.linspace(extent[2], extent[3], grid.shape[0]),
        grid,
        levels=40,
        cmap="viridis",
    )
    ax.set(xlabel="w1", ylabel="w2", xlim=extent[:2], ylim=extent[2:])


def contour(grid, extent, trajs: dict[str, np.ndarray], title: str, path) -> None:
    fig = new_figure(6.5, 5)
    ax = fig.add_subplot()
    _axes_2d(ax, grid, extent)
    for name, t in trajs.items():
        ax.plot(t[:, 0], t[:, 1], "-o", ms=2.5, lw=1.2, color=COLORS.get(name), label=name)
    ax.plot(*trajs[next(iter(trajs))][0, :2], "k*", ms=12, label="start")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    save(fig, path)


def surface_3d(grid, extent, trajs: dict[str, np.ndarray], title: str, path) -> None:
    fig = new_figure(7, 5.5)
    ax = fig.add_subplot(projection="3d")
    g1, g2 = np.meshgrid(
        np.linspace(extent[0], extent[1], grid.shape[1]), np.linspace(extent[2], extent[3], grid.shape[0])
    )
    ax.plot_surface(g1, g2, grid, cmap="viridis", alpha=0.6, linewidth=0, rstride=2, cstride=2)
    for name, t in trajs.items():
        inside = (t[:, 0] >= extent[0]) & (t[:, 0] <= extent[1]) & (t[:, 1] >= extent[2]) & (t[:, 1] <= extent[3])
        ax.plot(t[inside, 0], t[inside, 1], t[inside, 2], "-o", ms=2, color=COLORS.get(name), label=name)
    ax.set(xlabel="w1", ylabel="w2", zlabel="loss", title=title)
    ax.legend(fontsize=8, loc="upper right")
    save(fig, path)


def trajectories(grid, extent, trajs: dict[str, np.ndarray], title: str, stem, fps: int = 8) -> None:
    """The optimizers walking over the contour plot, a few updates per frame, as STEM.gif (+ .mp4): the contour
    is drawn once; each frame redraws only the paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = new_figure(6.2, 4)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _axes_2d(ax, grid, extent)
    ax.set_title(title, fontsize=9)
    lines = {n: ax.plot([], [], "-o", ms=2.5, color=COLORS.get(n), label=n, animated=True)[0] for n in trajs}
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    label = ax.text(0.02, 0.96, "", transform=ax.transAxes, fontsize=8, va="top", color="white", animated=True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    steps = len(next(iter(trajs.values())))
    frames = []
    for k in np.unique(np.linspace(1, steps, FRAMES).round().astype(int)):
        canvas.restore_region(background)
        for n, t in trajs.items():
            lines[n].set_data(t[:k, 0], t[:k, 1])
            ax.draw_artist(lines[n])
        label.set_text(f"update {k - 1}")
        ax.draw_artist(label)
        frames.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    animate(frames, stem, fps)


def network_curves(run: Run) -> None:
    rows = run.load_table("network")
    if not rows:
        return
    history = run.history
    fig = new_figure(10, 4)
    axes = fig.subplots(1, 2)
    models = {r["optimizer"]: [r["optimizer"]] for r in rows}
    labels = {r["optimizer"]: f"{r['optimizer']} (lr {float(r['lr']):g})" for r in rows}
    colors = {name: COLORS.get(name) for name in models}
    for ax, key in zip(axes, ("train_loss", "val_accuracy"), strict=True):
        plot_curves(ax, mean_curves(history, key, models), marker="o", ms=3, labels=labels, colors=colors)
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"MLP {run.metrics.get('network_hidden')} on {run.metrics.get('network_dataset')}")
    save(fig, run.figure("network_curves"))


def _point(r: dict[str, str]) -> str:
    w1, w2 = float(r["end_w1"]), float(r["end_w2"])
    return "diverged" if not (math.isfinite(w1) and math.isfinite(w2)) else f"({w1:.3g}, {w2:.3g})"


def end_verdict(surface: str, r: dict[str, str]) -> str:
    """What the end point means on the practical's surfaces (from the numbers, whatever the settings)."""
    w1, w2 = float(r["end_w1"]), float(r["end_w2"])
    if r["diverged"] == "True":
        return "diverged"
    if surface == "curvature":
        return (
            "ran down the valley (w2 < -7.5, |w1| < 0.5)"
            if w2 < -7.5 and abs(w1) < 0.5
            else "did not get far down the valley"
        )
    if surface == "steep-optima":
        wells = [m for m in STEEP_OPTIMA if math.hypot(w1 - m[0], w2 - m[1]) < 0.05]
        if wells:
            return f"sits in the well at {wells[0]}"
        return (
            "passed through a well (lowest loss {:.3g}) but was thrown out by its steep wall".format(
                float(r["lowest_loss"])
            )
            if float(r["lowest_loss"]) < -1
            else "never found a well"
        )
    return ""


@register_findings("optimizers")
def optimizers(run: Run) -> list[Finding]:
    rows = run.load_table("end_points")
    out = []
    for surface in dict.fromkeys(r["surface"] for r in rows):
        mine = [r for r in rows if r["surface"] == surface]
        ends = "; ".join(
            f"{r['optimizer']} (lr {float(r['lr']):g}) ends at {_point(r)}, loss {float(r['end_loss']):.4g}"
            + (f": {end_verdict(surface, r)}" if end_verdict(surface, r) else "")
            for r in mine
        )
        best = min(mine, key=lambda r: float(r["end_loss"]) if r["diverged"] != "True" else math.inf)
        text = (
            f"From ({float(mine[0]['start_w1']):g}, {float(mine[0]['start_w2']):g}) after "
            f"{run.config.get('updates')} updates: {ends}. Lowest end: {best['optimizer']}."
        )
        text += {
            "curvature": " The valley is steep across w1 and ever flatter along w2, so one learning rate "
            "fits neither direction for plain SGD; momentum accumulates the small, consistent "
            "w2 gradient and Adam rescales each parameter's step by its gradient's size.",
            "steep-optima": " The minima are narrow wells in a flat plain: at (0, 0) the gradient is tiny, "
            "Adam's per-parameter scaling turns it into a full-size step, while the wells' "
            "steep walls give SGD huge gradients.",
        }.get(surface, "")
        out.append(Finding(f"Surface {surface}", text, "end_points"))
    net = run.load_table("network")
    if net:
        ranked = sorted(net, key=lambda r: -float(r["test_accuracy"]))
        beta, sgdm = float(run.config.get("momentum", 0.9)), [r for r in net if r["optimizer"] == "SGDMomentum"]
        out.append(
            Finding(
                f"Optimizers on an MLP ({run.metrics.get('network_dataset')})",
                "Test accuracy from the same initial weights and batches: "
                + ", ".join(f"{r['optimizer']} {float(r['test_accuracy']):.2%}" for r in ranked)
                + f". SGDMomentum's steps are 1/(1-beta) = {1 / (1 - beta):.3g}x shorter than those of torch's "
                "SGD with "
                f"momentum at the same lr: it equals torch's SGD(lr*(1-beta), momentum=beta), here lr "
                f"{float(sgdm[0]['lr']) * (1 - beta):.3g}."
                if sgdm
                else ".",
                "network",
            )
        )
    return out
