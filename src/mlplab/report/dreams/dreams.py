"""dreams (experiments/dreams/dreams.py): images optimised towards classes, mixtures and penalties. Its main
numbers, figures, animations and findings, from its arrays, metrics and config only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlplab.analysis.constants import RECOGNISED
from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.animation import animate
from mlplab.report.draw.grids import image_grid, pixel_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers(
    "dreams", "classifier_test_accuracy", "dreams_min_confidence", "hybrid_max_deviation", "judge_test_accuracy"
)
UPSCALE = 4  # animation pixels per image pixel


@register_figures("dreams")
def build(run: Run) -> None:
    arrays = run.path / "arrays"
    if (arrays / "dreams.npz").is_file():
        dream_figures(run.load_arrays("dreams"), run)
    if (arrays / "hybrids.npz").is_file():
        hybrid_figures(run.load_arrays("hybrids"), run)
    if (arrays / "l2.npz").is_file():
        l2_figures(run.load_arrays("l2"), run)
    if (arrays / "robust.npz").is_file():
        robust_figures(run.load_arrays("robust"), run)


def _names(a: dict[str, np.ndarray]) -> list[str]:
    return [str(c) for c in a["classes"]]


def dream_figures(a: dict[str, np.ndarray], run: Run) -> None:
    classes, targets = _names(a), a["targets"].astype(int)
    conf = a["final_probs"][np.arange(len(targets)), targets]
    image_grid(
        a["images"],
        run.figure("dreams"),
        titles=[f"{classes[t]}: p={p:.3f}" for t, p in zip(targets, conf, strict=True)],
        title="dreams: the final images and the classifier's probability of their class",
        scale=1.2,
    )
    fig = new_figure(7, 4)
    ax = fig.add_subplot()
    steps = np.arange(len(a["confidences"]))
    for j, t in enumerate(targets):
        ax.plot(steps, a["confidences"][:, j], label=classes[t], lw=1.2)
    ax.set(xlabel="step", ylabel="probability of the target class", title="confidence over the steps", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(ncol=2, fontsize=7, loc="lower right")
    save(fig, run.figure("dream_confidence"))
    if len(a["frames"]):
        strips(a["frames"], run.path / "animations" / "dreams")


def hybrid_figures(a: dict[str, np.ndarray], run: Run) -> None:
    classes, target, probs = _names(a), a["target"], a["probs"]
    k, custom = len(classes), bool(a["custom"])
    n_pairs = len(target) - custom
    fig = new_figure(1.0 * (k - 1), 1.15 * (k - 1))
    for i in range(n_pairs):
        pa, pb = np.flatnonzero(target[i])
        ax = fig.add_subplot(k - 1, k - 1, pa * (k - 1) + pb)
        _show(ax, a["images"][i])
        ax.set_title(f"{classes[pa]}+{classes[pb]}\n{probs[i, pa]:.2f}/{probs[i, pb]:.2f}", fontsize=6)
    fig.suptitle(
        f"50/50 hybrids of every pair, with the probabilities achieved; worst deviation "
        f"{a['deviation'][:n_pairs].max():.3f}"
    )
    save(fig, run.figure("hybrid_pairs"))
    if custom:
        fig = new_figure(7, 3)
        ax = fig.add_subplot(1, 2, 1)
        _show(ax, a["images"][-1])
        ax.set_title(str(a["labels"][-1]))
        ax = fig.add_subplot(1, 2, 2)
        pos = np.arange(k)
        ax.bar(pos - 0.2, target[-1], 0.4, label="asked")
        ax.bar(pos + 0.2, probs[-1], 0.4, label="achieved")
        ax.set(xticks=pos, ylabel="probability", title="the asked mixture and the classifier's probabilities")
        ax.set_xticklabels(classes, rotation=45 if max(map(len, classes)) > 2 else 0, ha="right")
        ax.legend()
        save(fig, run.figure("hybrid_custom"))


def l2_figures(a: dict[str, np.ndarray], run: Run) -> None:
    classes, lambdas, targets = _names(a), a["lambdas"], a["targets"].astype(int)
    images = a["images"]  # (L, B, C, H, W)
    n_l, n_b = images.shape[:2]
    image_grid(
        images.reshape(n_l * n_b, *images.shape[2:]),
        run.figure("l2_images"),
        ncols=n_b,
        titles=[f"λ={lam:.3g}" if j == 0 else "" for lam in lambdas for j in range(n_b)],
        title="dreams under the penalty λ·mean(x²): one row per λ, one column per class",
    )
    conf = a["probs"][:, np.arange(n_b), targets]  # (L, B)
    for name, values, ylabel, title in (
        ("l2_confidence", conf, "probability of the target class", "target confidence against λ"),
        ("l2_pixel_norm", a["mean_pixel"], "mean pixel value (|x|)", "mean pixel magnitude against λ"),
    ):
        fig = new_figure(6.5, 4)
        ax = fig.add_subplot()
        for j, t in enumerate(targets):
            ax.plot(lambdas, values[:, j], lw=0.8, alpha=0.6, label=classes[t])
        ax.plot(lambdas, values.mean(1), "k-o", lw=2, label="mean")
        ax.set_xscale("log")
        ax.set(xlabel="λ", ylabel=ylabel, title=title)
        ax.grid(alpha=0.3)
        ax.legend(ncol=2, fontsize=7)
        save(fig, run.figure(name))


def robust_figures(a: dict[str, np.ndarray], run: Run) -> None:
    classes, targets = _names(a), a["targets"].astype(int)
    idx = np.arange(len(targets))
    p = {kind: a[f"judge_{kind}"][idx, targets] for kind in ("plain", "robust")}
    said = {kind: a[f"judge_{kind}"].argmax(1) for kind in ("plain", "robust")}
    titles = [
        f"{classes[t]} plain\njudge {p['plain'][i]:.2f} ({classes[said['plain'][i]]})" for i, t in enumerate(targets)
    ]
    titles += [
        f"{classes[t]} robust\njudge {p['robust'][i]:.2f} ({classes[said['robust'][i]]})" for i, t in enumerate(targets)
    ]
    counts = {kind: int((v >= RECOGNISED).sum()) for kind, v in p.items()}
    image_grid(
        np.concatenate([a["plain"], a["robust"]]),
        run.figure("plain_vs_robust"),
        titles=titles,
        ncols=len(targets),
        scale=1.3,
        title=f"plain (top) and robust (bottom) dreams; the judge recognises {counts['plain']} and "
        f"{counts['robust']} of {len(targets)}",
    )
    fig = new_figure(max(6.0, 0.6 * len(targets)), 3.6)
    ax = fig.add_subplot()
    ax.bar(idx - 0.2, p["plain"], 0.4, label=f"plain ({counts['plain']} recognised)")
    ax.bar(idx + 0.2, p["robust"], 0.4, label=f"robust ({counts['robust']} recognised)")
    ax.axhline(RECOGNISED, color="k", ls="--", lw=1)
    ax.set(
        xticks=idx,
        ylim=(0, 1.02),
        ylabel="judge's probability of the target",
        title="the independent CNN judge's verdict on each dream",
    )
    ax.set_xticklabels([classes[t] for t in targets])
    ax.legend(fontsize=8)
    save(fig, run.figure("judge_verdict"))
    if len(a["frames"]):
        strips(a["frames"], run.path / "animations" / "robust_dreams")


def _show(ax, image: np.ndarray) -> None:
    img = image.transpose(1, 2, 0)
    ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
    ax.set(xticks=[], yticks=[])


def strips(frames: np.ndarray, stem: Path, fps: int = 10) -> None:
    """Each frame (B, C, H, W) as one row of its images, upscaled: STEM.gif (+ .mp4)."""
    animate([pixel_grid(f, ncols=len(f), upscale=UPSCALE) for f in frames], stem, fps)


@register_findings("dreams")
def dreams(run: Run) -> list[Finding]:
    m, cfg = run.metrics, run.config
    out = []
    if "dreams_confidence" in m:
        conf = list(m["dreams_confidence"].values())
        out.append(
            Finding(
                "Dreams",
                f"{sum(c >= cfg['confidence'] for c in conf)} of {len(conf)} dreams reached "
                f"p ≥ {cfg['confidence']:g} for their class after {m['dreams_steps']} steps "
                f"({m['dreams_seconds']:.2f} s); the lowest confidence is "
                f"{m['dreams_min_confidence']:.4f}.",
                "dreams_confidence",
            )
        )
    if "hybrid_pairs" in m:
        a = run.load_arrays("hybrids")
        pairs = a["deviation"][: len(a["deviation"]) - int(a["custom"])]
        out.append(
            Finding(
                "Hybrids",
                f"{m['hybrid_pairs_within_tolerance']} of {m['hybrid_pairs']} 50/50 pairs are "
                f"within {cfg['hybrid_tolerance']:g} of their mixture after {m['hybrid_steps']} "
                f"steps; the worst deviation is {float(pairs.max()):.4f}.",
                "hybrids",
            )
        )
    if "l2_mean_pixel" in m:
        pixel, conf = m["l2_mean_pixel"], m["l2_target_confidence"]
        out.append(
            Finding(
                "L2 penalty",
                f"As λ grows from {cfg['l2_range'][0]:g} to {cfg['l2_range'][1]:g} the mean "
                f"pixel falls from {pixel[0]:.3f} to {pixel[-1]:.3f} "
                f"({'monotonically' if m['l2_mean_pixel_monotonic'] else 'not monotonically'})"
                f" and the mean target probability goes from {conf[0]:.3f} to "
                f"{conf[-1]:.3f}.",
                "l2_sweep",
            )
        )
    if "judge_recognised_robust" in m:
        n = len(m["judge_p_plain"])
        out.append(
            Finding(
                "Robust dreams and the judge",
                (
                    f"An independently trained CNN recognises (p ≥ {RECOGNISED:g}) "
                    f"{m['judge_recognised_plain']} of {n} plain "
                    f"dreams and {m['judge_recognised_robust']} of {n} robust dreams (ensemble of "
                    f"{m['ensemble_size']}, "
                    f"jitter {cfg['jitter']} px, rotation ±{cfg['rotate']:g}°, zoom ±{cfg['zoom']:g}, blur σ "
                    f"{cfg['blur_sigma']:g} every {cfg['blur_every']} steps, TV {cfg['tv']:g}, L2 "
                    f"{cfg['robust_l2']:g}, "
                    f"{cfg['robust_steps']} steps). The classifier's own confidence in the robust dreams is "
                    f"{min(m['robust_classifier_confidence'].values()):.3f} at the lowest."
                ),
                "judge",
            )
        )
    return out
