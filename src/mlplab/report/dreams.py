"""Figures and animations of a `dreams` run, made from its arrays only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from mlplab.report import register_figures
from mlplab.report.plots import image_grid, new_figure, save
from mlplab.runs import Run, atomic_path

RECOGNISED = 0.5
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
        titles=[f"{classes[t]}: p={p:.3f}" for t, p in zip(targets, conf)],
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
        animate(a["frames"], run.path / "animations" / "dreams")


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
        animate(a["frames"], run.path / "animations" / "robust_dreams")


def _show(ax, image: np.ndarray) -> None:
    img = image.transpose(1, 2, 0)
    ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
    ax.set(xticks=[], yticks=[])


def frame_strip(frame: np.ndarray) -> np.ndarray:
    """(B, C, H, W) in [0, 1] -> one uint8 row of the images, upscaled, separated by a 1-pixel gap."""
    b, c, h, w = frame.shape
    gap = np.zeros((c, h, 1))
    row = np.concatenate([np.concatenate([img, gap], axis=2) for img in frame], axis=2)[..., :-1]  # (C, H, B*(W+1)-1)
    row = row.repeat(UPSCALE, 1).repeat(UPSCALE, 2).transpose(1, 2, 0)
    out = (np.clip(row, 0, 1) * 255).round().astype(np.uint8)
    return out[..., 0] if c == 1 else out


def animate(frames: np.ndarray, stem: Path, fps: int = 10) -> None:
    """A GIF of the frames (imageio), and an MP4 when an ffmpeg executable is available."""
    save_animation([frame_strip(f) for f in frames], stem, fps)


def save_animation(strips: list[np.ndarray], stem: Path, fps: int) -> None:
    """uint8 pictures as STEM.gif, and STEM.mp4 where an ffmpeg is found (an ffmpeg that fails leaves the GIF)."""
    import imageio.v2 as imageio

    with atomic_path(stem.with_suffix(".gif")) as tmp:
        imageio.mimsave(tmp, strips, format="GIF", duration=1000 / fps, loop=0)
    mp4_beside(strips, stem.with_suffix(".mp4"), fps)


def mp4_beside(frames: list[np.ndarray], path: Path, fps: int) -> None:
    """The frames as an MP4 when an ffmpeg executable is available (else, or if it cannot encode, nothing)."""
    exe = ffmpeg()
    if exe:
        try:
            write_mp4(exe, frames, path, fps)
        except (OSError, subprocess.SubprocessError):
            pass  # an ffmpeg that cannot encode: the GIF stands alone


def ffmpeg() -> str | None:
    """An ffmpeg executable: imageio-ffmpeg's bundled one, else one on PATH, else None (MP4 skipped)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def write_mp4(exe: str, strips: list[np.ndarray], path: Path, fps: int) -> None:
    h, w = strips[0].shape[:2]
    h2, w2 = h + h % 2, w + w % 2  # yuv420p needs even sides
    rgb = [np.pad(np.stack([s] * 3, -1) if s.ndim == 2 else s, ((0, h2 - h), (0, w2 - w), (0, 0))) for s in strips]
    with atomic_path(path) as tmp:
        cmd = [
            exe,
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w2}x{h2}",
            "-r",
            str(fps),
            "-i",
            "-",
            "-pix_fmt",
            "yuv420p",
            "-vcodec",
            "libx264",
            "-f",
            "mp4",
            str(tmp),
        ]
        result = subprocess.run(cmd, input=b"".join(f.tobytes() for f in rgb), capture_output=True, timeout=120)
        if result.returncode != 0:
            raise OSError(f"ffmpeg failed: {result.stderr.decode(errors='replace')[:200]}")
