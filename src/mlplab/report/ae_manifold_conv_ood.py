"""Figures of ae-manifold, ae-conv and ae-ood, from the run folder's files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import register_figures
from mlplab.report.plots import curves, image_grid, new_figure, save
from mlplab.runs import Run


def tagged_curves(run: Run, models: list[str], key: str, title: str, name: str, ylabel: str) -> None:
    """One curve per model from the metrics.jsonl rows tagged `model` (untagged rows: the checkpointed model)."""
    history = run.history
    fig = new_figure(6.5, 4.0)
    ax = fig.add_subplot()
    drawn = False
    for model in models:
        rows = [r for r in history if r.get("model", "") == model and key in r]
        if rows:
            ax.plot([r["epoch"] for r in rows], [r[key] for r in rows], marker=".", label=model or "autoencoder")
            drawn = True
    if not drawn:
        return
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, run.figure(name))


def label_titles(classes: np.ndarray, labels: np.ndarray, top: np.ndarray) -> list[str]:
    return [f"{classes[int(l)]} {p:.2f}" for l, p in zip(labels.ravel(), top.ravel())]


# ---- ae-manifold -------------------------------------------------------------------------------------
@register_figures("ae-manifold")
def manifold(run: Run) -> None:
    curves(
        [r for r in run.history if "model" not in r],
        ["train_mse", "val_mse"],
        "autoencoder",
        run.figure("loss_curves"),
        ylabel="mean squared error per pixel",
        logy=True,
    )
    rows = run.load_table("random_steps")
    if rows:
        scales = [float(r["scale"]) for r in rows]
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        for key, style, label in (
            ("code_same_digit", "C0-o", "code step: same digit"),
            ("code_confident_digit", "C0--s", "code step: confident digit"),
            ("pixel_same_digit", "C3-o", "pixel step: same digit"),
            ("pixel_confident_digit", "C3--s", "pixel step: confident digit"),
            ("code_like_the_data", "C0:^", "code step: like the data (AE error)"),
            ("pixel_like_the_data", "C3:^", "pixel step: like the data (AE error)"),
        ):
            if key in rows[0]:
                ax.plot(scales, [float(r[key]) for r in rows], style, label=label)
        ax.set(
            xscale="log",
            xlabel="step size (x each code dimension's spread; pixel steps matched in distance)",
            ylabel="share of steps",
            ylim=(-0.02, 1.02),
            title="random steps judged by the classifier",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, run.figure("steps_by_scale"))
    if (run.path / "arrays" / "random_steps.npz").is_file():
        a = run.load_arrays("random_steps")
        for i in range(len(a["start"])):
            images, titles = [], []
            for s, scale in enumerate(a["scales"]):
                for kind, first in (("code", a["start_recon"][i]), ("pixel", a["start"][i])):
                    images += [first, *a[kind][s, i]]
                    titles += [
                        f"{kind} x{scale:g}",
                        *label_titles(a["classes"], a[f"{kind}_label"][s, i], a[f"{kind}_top"][s, i]),
                    ]
            image_grid(
                np.stack(images),
                run.figure(f"steps_image{i}"),
                titles=titles,
                ncols=1 + a["code"].shape[2],
                title=f"digit {a['classes'][int(a['start_digit'][i])]}: start, then random steps",
            )
    if (run.path / "arrays" / "interpolation.npz").is_file():
        a = run.load_arrays("interpolation")
        images, titles = [], []
        for p in range(len(a["code_path"])):
            for kind in ("code", "pixel"):
                images += list(a[f"{kind}_path"][p])
                titles += label_titles(a["classes"], a[f"{kind}_label"][p], a[f"{kind}_top"][p])
        image_grid(
            np.stack(images),
            run.figure("interpolation"),
            titles=titles,
            ncols=a["code_path"].shape[1],
            title="interpolation: per pair, a row through code space, then a row of pixel blends",
        )


# ---- ae-conv -----------------------------------------------------------------------------------------
@register_figures("ae-conv")
def conv(run: Run) -> None:
    rows = run.load_table("models")
    tagged_curves(
        run, [r["model"] for r in rows], "val_mse", "validation error", "loss_curves", "mean squared error per pixel"
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
        names = [str(n) for n in a["names"]]
        images = np.concatenate([a["original"], *[a[f"recon_{i}"] for i in range(len(names))]])
        n = len(a["original"])
        titles = ["original"] * n + [name for name in names for _ in range(n)]
        image_grid(
            images,
            run.figure("reconstructions"),
            titles=titles,
            ncols=n,
            title="test images (top row) and each model's reconstruction",
        )


# ---- ae-ood ------------------------------------------------------------------------------------------
@register_figures("ae-ood")
def ood(run: Run) -> None:
    curves(
        [r for r in run.history if "model" not in r],
        ["train_mse", "val_mse"],
        "autoencoder",
        run.figure("loss_curves"),
        ylabel="mean squared error per pixel",
        logy=True,
    )
    if not (run.path / "arrays" / "ood.npz").is_file():
        return
    a = run.load_arrays("ood")
    names = [str(n) for n in a["sources"]]
    errors = [a[f"errors_{i}"] for i in range(len(names))]
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    low = max(min(float(e.min()) for e in errors), 1e-6)
    high = max(float(e.max()) for e in errors)
    bins = np.geomspace(low, high * 1.01, 60)
    for name, e in zip(names, errors):
        ax.hist(
            e,
            bins=bins,
            weights=np.full(len(e), 1 / len(e)),
            histtype="step",
            linewidth=1.5,
            label=f"{name} ({len(e)} images)",
        )
    ax.set(
        xscale="log",
        xlabel="reconstruction error (mean squared error per pixel)",
        ylabel="share of images",
        title="reconstruction errors by source",
    )
    ax.legend(fontsize=8)
    save(fig, run.figure("error_histogram"))
    images, titles = [], []
    for i, name in enumerate(names):
        images += [*a[f"shown_{i}"], *a[f"shown_recon_{i}"]]
        k = len(a[f"shown_{i}"])
        titles += [f"{name}"] * k + [f"recon {e:.3f}" for e in a[f"shown_err_{i}"]]
    k = len(a["shown_0"])
    image_grid(
        np.stack(images),
        run.figure("reconstructions"),
        titles=titles,
        ncols=k,
        title="per source: inputs, then the AE's reconstructions (titles: error per pixel)",
    )
