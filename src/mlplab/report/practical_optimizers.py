"""Figures and animation of an `optimizers` run, from its arrays and tables only."""

from __future__ import annotations

import numpy as np

from mlplab.report import register_figures
from mlplab.report.dreams import mp4_beside
from mlplab.report.plots import new_figure, save
from mlplab.runs import Run, atomic_path

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
        animate(a["grid"], a["extent"], trajs, name, run.path / "animations" / f"{name}_trajectories.gif")
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


def animate(grid, extent, trajs: dict[str, np.ndarray], title: str, path, fps: int = 8) -> None:
    """A GIF (and an MP4 when ffmpeg is available): the three optimizers walking over the contour plot, a few updates per frame (the contour is
    drawn once; each frame redraws only the paths)."""
    import imageio.v2 as imageio
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
    with atomic_path(path) as tmp:
        imageio.mimsave(tmp, frames, format="GIF", duration=1000 / fps, loop=0)
    mp4_beside(frames, path.with_suffix(".mp4"), fps)


def network_curves(run: Run) -> None:
    rows = run.load_table("network")
    if not rows:
        return
    history = run.history
    fig = new_figure(10, 4)
    axes = fig.subplots(1, 2)
    for r in rows:
        name = r["optimizer"]
        h = [x for x in history if x.get("model") == name]
        label = f"{name} (lr {float(r['lr']):g})"
        axes[0].plot(
            [x["epoch"] for x in h], [x["train_loss"] for x in h], "-o", ms=3, color=COLORS.get(name), label=label
        )
        val = [x for x in h if "val_accuracy" in x]
        axes[1].plot(
            [x["epoch"] for x in val], [x["val_accuracy"] for x in val], "-o", ms=3, color=COLORS.get(name), label=label
        )
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"MLP {run.metrics.get('network_hidden')} on {run.metrics.get('network_dataset')}")
    save(fig, run.figure("network_curves"))
