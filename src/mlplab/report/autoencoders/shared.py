"""What the autoencoder experiments' report modules share: their arrays and tables, loss curves by model,
encoder filters."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mlplab.report.draw.curves import curves, model_curves
from mlplab.report.draw.grids import image_grid
from mlplab.runs import Run


def arrays(run: Run, name: str) -> dict[str, np.ndarray] | None:
    return run.load_arrays(name) if (run.path / "arrays" / f"{name}.npz").is_file() else None


def table_rows(run: Run, table: str) -> list[dict]:
    """Table rows with numbers as numbers (ints where the text is an integer)."""

    def value(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    return [{k: value(v) for k, v in row.items()} for row in run.load_table(table)]


DIGIT_DATASETS = ("digits", "mnist")  # whose classes are digits; anything else (own data too) has classes


def class_word(run: Run, plural: bool = False) -> str:
    """What the run's classes are called in titles and findings: digits on the digit datasets, else classes."""
    if run.config.get("dataset") in DIGIT_DATASETS:
        return "digits" if plural else "digit"
    return "classes" if plural else "class"


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


def autoencoder_curves(run: Run) -> None:
    """Training and validation error of the run's one autoencoder (rows of other models, tagged, left out)."""
    curves(
        [r for r in run.history if "model" not in r],
        ["train_mse", "val_mse"],
        "autoencoder",
        run.figure("loss_curves"),
        ylabel="mean squared error per pixel",
        logy=True,
    )


def reconstruction_rows(run: Run, rows: list[tuple[np.ndarray, list[str]]], title: str) -> Path:
    """figures/reconstructions.png: rows of images (each (M, C, H, W)) with a title per image, as wide as the
    first row."""
    return image_grid(
        np.concatenate([images for images, _ in rows]),
        run.figure("reconstructions"),
        titles=[t for _, titles in rows for t in titles],
        ncols=len(rows[0][0]),
        title=title,
    )


def filter_grid(filters: np.ndarray, path: Path, title: str, n: int = 64) -> Path:
    """The first n encoder filters (units, C, H, W) as images, each already scaled to [0, 1]."""
    n = min(n, len(filters))
    return image_grid(filters[:n], path, ncols=int(math.ceil(math.sqrt(n))), title=title, scale=0.6)


def filter_figures(run: Run, labels: dict[str, str]) -> None:
    """figures/filters_NAME.png from arrays/filters_NAME.npz, for every NAME -> label that has its arrays."""
    for name, label in labels.items():
        filters = arrays(run, f"filters_{name}")
        if filters is not None:
            filter_grid(filters["filters"], run.figure(f"filters_{name}"), f"encoder filters, {label} (first 64)")


def label_titles(classes: np.ndarray, labels: np.ndarray, top: np.ndarray) -> list[str]:
    return [f"{classes[int(label)]} {p:.2f}" for label, p in zip(labels.ravel(), top.ravel(), strict=True)]
