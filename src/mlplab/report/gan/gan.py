"""gan (experiments/gan/gan.py): a GAN for one class, judged by an independent CNN. Its main numbers, figures,
the fixed-noise animation and the findings, from its files only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.animation import animate
from mlplab.report.draw.grids import image_grid, pixel_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("gan", "decent_fraction", "recall", "fd_ratio", "coverage")

QUALITY = ("decent_fraction", "precision", "recall", "coverage")
UPSCALE = 3


def frames(run: Run) -> list[tuple[int, np.ndarray]]:
    """(step, fixed-noise images (B, C, H, W) in [0, 1]) of every evaluation, in step order."""
    out = []
    for f in sorted((run.path / "arrays" / "frames").glob("step_*.npz")):
        with np.load(f, allow_pickle=False) as a:
            out.append((int(a["step"]), a["pixels"].astype(np.float32) / 255))
    return out


def evaluations(run: Run) -> list[dict]:
    return [r for r in run.history if "step" in r]


def restarts(run: Run) -> list[dict]:
    f = run.path / "restarts.json"
    return json.loads(f.read_text()) if f.is_file() else []


@register_figures("gan")
def build(run: Run) -> None:
    shots, rows = frames(run), evaluations(run)
    if shots:
        grids(shots, run)
        animate([frame_grid(images) for _, images in shots], run.path / "animations" / "fixed_noise", fps=4)
    if rows:
        curves(rows, run)
        quality_curves(rows, run)
        label_histogram(rows[-1]["judge_labels"], run)
    collapsed = run.metrics.get("collapsed_at")
    if collapsed is not None:
        for step, images in shots:
            if step == collapsed:
                mosaic(
                    images,
                    run.figure("collapse_grid"),
                    f"the fixed-noise samples at step {step}, where the collapse was detected",
                )
    if (run.path / "arrays" / "neighbours.npz").is_file():
        neighbours(run.load_arrays("neighbours"), run)


def grids(shots: list[tuple[int, np.ndarray]], run: Run) -> None:
    """Start, middle and end grids of the same latent points."""
    picks = {"start": shots[0], "middle": shots[len(shots) // 2], "end": shots[-1]}
    for name, (step, images) in picks.items():
        mosaic(images, run.figure(f"samples_{name}"), f"{name}: fixed-noise samples at step {step}")


def mosaic(images: np.ndarray, path: Path, title: str) -> None:
    """The images as one picture (one imshow, not one axes per image: fast for 64 samples)."""
    picture = frame_grid(images)
    fig = new_figure(6, 6.4)
    ax = fig.add_subplot()
    ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255)
    ax.set_axis_off()
    ax.set_title(title)
    save(fig, path)


def frame_grid(images: np.ndarray) -> np.ndarray:
    """(B, C, H, W) in [0, 1] -> one uint8 picture of an 8-wide grid, upscaled, 1-pixel gray gaps."""
    return pixel_grid(images, ncols=8, upscale=UPSCALE, gap=0.5)


def curves(rows: list[dict], run: Run) -> None:
    steps = [r["step"] for r in rows]
    fig = new_figure(11, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(steps, [r["train_loss_d"] for r in rows], label="discriminator")
    ax.plot(steps, [r["train_loss_g"] for r in rows], label="generator")
    ax.set(xlabel="step", ylabel="BCE (mean since the last evaluation)", title="losses")
    ax.grid(alpha=0.3)
    ax.legend()
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(steps, [r["train_d_real"] for r in rows], label="mean D(real)")
    ax.plot(steps, [r["train_d_fake"] for r in rows], label="mean D(fake)")
    ax.axhline(0.5, color="k", ls=":", lw=1)
    ax.set(xlabel="step", ylabel="D(x)", ylim=(0, 1), title="what the discriminator says")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, run.figure("losses"))


def quality_curves(rows: list[dict], run: Run) -> None:
    """Judge metrics over training, real-image baselines dashed, the collapse and the restarts marked."""
    m, steps = run.metrics, [r["step"] for r in rows]
    fig = new_figure(11, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    # runs since the watched reference: curves against training images of the class, the test images once at the end
    watched = "watched_real_recall" in m
    real = "watched_real_" if watched else "real_"
    for key in QUALITY:
        (line,) = ax.plot(steps, [r[key] for r in rows], marker=".", label=key)
        if f"{real}{key}" in m:
            ax.axhline(m[f"{real}{key}"], color=line.get_color(), ls="--", lw=0.8)
        if watched and key in m and steps:
            ax.plot([steps[-1]], [m[key]], marker="*", ms=10, color=line.get_color(), ls="none")
    mark_events(ax, m, run)
    title = (
        "judge's metrics against training images of the class\n"
        "(dashed: real vs real; star: final, against the test images)"
        if watched
        else "judge's metrics (dashed: real test images)"
    )
    ax.set(xlabel="step", ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(steps, [r["fd_ratio"] for r in rows], marker=".", color="C4")
    if watched and steps and "fd_ratio" in m:  # a run stopped before its end has no final figures
        ax.plot([steps[-1]], [m["fd_ratio"]], marker="*", ms=10, color="C4", ls="none", label="final, test images")
        ax.legend(fontsize=8)
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    mark_events(ax, m, run)
    ax.set(
        xlabel="step",
        ylabel="FD / FD(real half, real half)",
        yscale="log",
        title="Fréchet distance ratio (1 = as close as real images)",
    )
    ax.grid(alpha=0.3)
    save(fig, run.figure("quality"))


def mark_events(ax, metrics: dict, run: Run) -> None:
    if metrics.get("collapsed_at") is not None:
        ax.axvline(metrics["collapsed_at"], color="red", lw=1.5, label="collapse")
    for r in restarts(run):
        ax.axvline(r["collapsed_at"], color="red", ls=":", lw=1)


def label_histogram(counts: list[int], run: Run) -> None:
    classes = [str(c) for c in run.metrics.get("judge_labels", {})] or [str(i) for i in range(len(counts))]
    fig = new_figure(6, 3.5)
    ax = fig.add_subplot()
    ax.bar(range(len(counts)), counts)
    ax.set(xticks=range(len(counts)), ylabel="samples", title="the judge's label for each final sample")
    ax.set_xticklabels(classes, rotation=45 if max(map(len, classes)) > 2 else 0, ha="right")
    save(fig, run.figure("judge_labels"))


def neighbours(a: dict[str, np.ndarray], run: Run) -> None:
    n = len(a["samples"])
    titles = [f"sample {i}" for i in range(n)] + [f"nearest, d={d:.2f}" for d in a["distances"]]
    image_grid(
        np.concatenate([a["samples"], a["neighbours"]]),
        run.figure("nearest_training_images"),
        ncols=n,
        titles=titles,
        scale=1.1,
        title="samples (top) and their nearest training images (bottom)",
    )


@register_findings("gan")
def findings(run: Run) -> list[Finding]:
    m = run.metrics
    if "decent_fraction" not in m:
        return []
    name, out = m["class_name"], []
    out.append(
        Finding(
            "Do the samples look like the class?",
            f"The judge (test accuracy {m['judge_test_accuracy']:.3f}) gives {name} a probability of at least 0.9 to "
            f"{m['decent_fraction']:.1%} of the final samples (untrained generator: "
            f"{m.get('initial_decent_fraction', float('nan')):.1%}; held-out real images of {name}: "
            f"{m.get('real_decent_fraction', float('nan')):.1%}).",
            "decent_fraction",
        )
    )
    out.append(
        Finding(
            "Variety",
            f"Precision {m['precision']:.2f}, recall {m['recall']:.2f}, density {m['density']:.2f}, coverage "
            f"{m['coverage']:.2f} in the judge's features (k=5 manifolds); one half of the real test images against "
            f"the other scores {m.get('real_precision', float('nan')):.2f} / "
            f"{m.get('real_recall', float('nan')):.2f} / "
            f"{m.get('real_density', float('nan')):.2f} / {m.get('real_coverage', float('nan')):.2f}. The Fréchet "
            f"distance is {m['fd_ratio']:.2f} times the distance between the two real halves.",
            "recall",
        )
    )
    out.append(Finding("Mode collapse", collapse_text(m, restarts(run)), "collapsed_at"))
    out.append(
        Finding(
            "Memorisation",
            f"{m['memorised_share']:.1%} of the samples are nearer to a training image than 95% of real test images "
            "are (fresh images score about 5%; copies score 100%).",
            "memorised_share",
        )
    )
    return out


def collapse_text(m: dict, restart_rows: list[dict]) -> str:
    parts = [
        f"Restarted from step {r['restarted_from']} with lr {r['lr']:.2g} after a collapse at step {r['collapsed_at']}."
        for r in restart_rows
    ]
    if m.get("collapsed_at") is not None:
        parts.append(
            f"Recall or coverage fell below its threshold at step {m['collapsed_at']} after the generator "
            "had covered the data; the grid of that moment is shown."
            + (" The run was stopped." if m.get("stopped") else "")
        )
    elif "healthy_at" in m and m["healthy_at"] is None:
        parts.append(
            f"The generator never covered the data (recall {m['recall']:.2f}, coverage {m['coverage']:.2f}; "
            f"healthy means at least twice {m.get('collapse_recall', 0.25):g} and "
            f"{m.get('collapse_coverage', 0.25):g}). With a high decent fraction "
            f"({m['decent_fraction']:.0%}) that is a generator stuck on a few modes from the start; with a "
            "low one it has not learned yet."
        )
    elif not parts:
        since = f"healthy from step {m['healthy_at']}, and " if m.get("healthy_at") is not None else ""
        parts.append(
            f"No collapse: {since}recall and coverage never fell below their thresholds after reaching twice them."
        )
    return " ".join(parts)
