"""Figures of the autoencoder runs (ae-pca, ae-undercomplete, ae-sparse, ae-denoising), from run files only."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mlplab.report import register_figures
from mlplab.report.plots import image_grid, new_figure, save
from mlplab.runs import Run


def _arrays(run: Run, name: str) -> dict[str, np.ndarray] | None:
    return run.load_arrays(name) if (run.path / "arrays" / f"{name}.npz").is_file() else None


def model_curves(history: list[dict], key: str, title: str, path: Path, ylabel: str) -> Path | None:
    """One curve of `key` per model of a multi-model run (rows carry a "model" field)."""
    names = list(dict.fromkeys(r["model"] for r in history if "model" in r and key in r))
    if not names:
        return None
    fig = new_figure()
    ax = fig.add_subplot()
    for name in names:
        rows = [r for r in history if r.get("model") == name and key in r]
        ax.plot([r["epoch"] for r in rows], [r[key] for r in rows], marker=".", label=name)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def loss_curves(run: Run) -> None:
    history = run.history
    key = "val_mse" if any("val_mse" in r for r in history) else "train_mse"
    model_curves(
        history,
        key,
        f"{key.replace('_', ' ')} per pixel, by model",
        run.figure("loss_curves"),
        "mean squared error per pixel",
    )


def filter_grid(filters: np.ndarray, path: Path, title: str, n: int = 64) -> Path:
    """The first n encoder filters (units, C, H, W) as images, each already scaled to [0, 1]."""
    n = min(n, len(filters))
    return image_grid(filters[:n], path, ncols=int(math.ceil(math.sqrt(n))), title=title, scale=0.6)


def rows_grid(rows: list[tuple[str, np.ndarray]], path: Path, title: str, cmap: str = "gray") -> Path:
    """Rows of images (each (M, C, H, W) or (M, H, W)), a label at the left of each row."""
    m = max(len(images) for _, images in rows)
    fig = new_figure(0.9 * m + 1.2, 0.95 * len(rows) + 0.5)
    grid = fig.add_gridspec(len(rows), m)
    for i, (label, images) in enumerate(rows):
        images = np.asarray(images)
        if images.ndim == 4:
            images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
        for j, image in enumerate(images):
            ax = fig.add_subplot(grid[i, j])
            ax.imshow(
                np.clip(image, 0, 1) if cmap == "gray" else image,
                cmap=cmap,
                vmin=0 if cmap == "gray" else None,
                vmax=1 if cmap == "gray" else None,
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def filter_figures(run: Run, labels: dict[str, str]) -> None:
    """figures/filters_NAME.png from arrays/filters_NAME.npz, for every NAME -> label that has its arrays."""
    for name, label in labels.items():
        filters = _arrays(run, f"filters_{name}")
        if filters is not None:
            filter_grid(filters["filters"], run.figure(f"filters_{name}"), f"encoder filters, {label} (first 64)")


@register_figures("ae-pca")
def build_pca(run: Run) -> None:
    loss_curves(run)
    errors = _arrays(run, "errors")
    if errors is None:
        return
    ks, d = errors["ks"], int(np.prod(_arrays(run, "reconstructions")["original"].shape[1:]))
    fig = new_figure(6.5, 4.2)
    ax = fig.add_subplot()
    for kind, color in (("pca", "C0"), ("ae", "C3")):
        mean = errors[f"{kind}_sse"].mean(1)
        ax.plot(ks, mean, marker="o", color=color, label=kind.upper())
        for k, v in zip(ks, mean):
            ax.annotate(f"{v:.2f}", (k, v), textcoords="offset points", xytext=(4, 4), fontsize=7, color=color)
    ax.set(
        xlabel="code size k",
        ylabel="summed squared error per test image",
        title="PCA vs autoencoder: test reconstruction error",
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.secondary_yaxis("right", functions=(lambda s: s / d, lambda m: m * d)).set_ylabel("mean squared error per pixel")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, run.figure("error_vs_k"))
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    data, labels = [], []
    for i, k in enumerate(ks):
        data += [errors["pca_sse"][i], errors["ae_sse"][i]]
        labels += [f"PCA k={k}", f"AE k={k}"]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="squared error per test image", title="per-image errors (whiskers 1.5 IQR, outliers hidden)")
    ax.grid(alpha=0.3, axis="y")
    save(fig, run.figure("per_image_errors"))
    rec = _arrays(run, "reconstructions")
    rows = [("original", rec["original"])]
    for i, k in enumerate(rec["ks"]):
        rows += [(f"AE k={k}", rec["ae"][i]), (f"PCA k={k}", rec["pca"][i])]
    rows_grid(rows, run.figure("reconstructions"), "one test image of each class: AE and PCA reconstructions")


@register_figures("ae-undercomplete")
def build_undercomplete(run: Run) -> None:
    history = run.history
    for split in ("train", "val"):
        model_curves(
            history, f"{split}_loss", f"{split} loss by hidden size", run.figure(f"{split}_loss_curves"), "loss"
        )
    rec = _arrays(run, "reconstructions")
    if rec is None:
        return
    rows = [("original", rec["original"])] + [(f"h={h}", rec["recon"][i]) for i, h in enumerate(rec["hs"])]
    rows_grid(rows, run.figure("reconstructions"), "reconstructions by hidden size")
    filter_figures(run, {f"h{h}": f"h={h}" for h in rec["hs"]})


@register_figures("ae-sparse")
def build_sparse(run: Run) -> None:
    loss_curves(run)
    act = _arrays(run, "activations")
    if act is None:
        return
    names, side = [str(n) for n in act["names"]], int(act["side"])
    table = {
        n: {k: run.metrics.get(f"{k}_{n}") for k in ("sse_per_image", "active_fraction", "mean_activation")}
        for n in names
    }
    fig = new_figure(11.0, 3.4)
    for i, (key, label) in enumerate(
        (
            ("sse_per_image", "squared error per test image"),
            ("active_fraction", "fraction of activations > threshold"),
            ("mean_activation", "mean hidden activation"),
        )
    ):
        ax = fig.add_subplot(1, 3, i + 1)
        bars = ax.bar(names, [table[n][key] or 0 for n in names], color=["C7"] + ["C0"] * (len(names) - 1))
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
        ax.set(title=label)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    save(fig, run.figure("sparsity"))
    codes = act["codes"]  # (models, shown, hidden)
    pad = side * side - codes.shape[-1]
    maps = np.pad(codes, [(0, 0), (0, 0), (0, pad)]).reshape(*codes.shape[:2], side, side)
    rows = [("input", act["original"])]
    for i, n in enumerate(names):
        top = max(float(np.percentile(maps[i], 99)), 1e-12)
        rows.append((n, np.clip(maps[i] / top, 0, 1)))
    rows_grid(
        rows,
        run.figure("activation_maps"),
        f"hidden activations as {side}×{side} maps (white = the row's 99th percentile or more; black = off)",
    )
    filter_figures(run, {n: n for n in names})


@register_figures("ae-denoising")
def build_denoising(run: Run) -> None:
    loss_curves(run)
    den = _arrays(run, "denoised")
    if den is None:
        return
    names, metrics = [str(n) for n in den["names"]], run.metrics
    fig = new_figure(max(6.0, 1.1 * len(names) + 2), 4.0)
    ax = fig.add_subplot()
    width = 0.27
    for j, (who, color) in enumerate((("noisy", "C7"), ("standard", "C0"), ("denoising", "C3"))):
        values = [metrics.get(f"{who}_sse_per_image_{n}", np.nan) for n in names]
        ax.bar(
            np.arange(len(names)) + (j - 1) * width,
            values,
            width,
            color=color,
            label={"noisy": "noisy input", "standard": "standard AE", "denoising": "denoising AE"}[who],
        )
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="squared error per test image vs the clean image", title="denoising vs standard AE")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    save(fig, run.figure("denoising_errors"))
    for i, n in enumerate(names):
        rows_grid(
            [
                ("clean", den["original"]),
                ("noisy", den["noisy"][i]),
                ("standard AE", den["standard"][i]),
                ("denoising AE", den["denoising"][i]),
            ],
            run.figure(f"denoised_{n}"),
            f"noise {n}",
        )
    filter_figures(run, {n: f"{n} AE" for n in ["standard", *names]})
