"""A hand-made run folder whose every user-controlled string is hostile, and throw-away experiments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mlplab.config import BaseConfig, param
from mlplab.runs import Run

EVIL = "<script>alert('x')</script>\"'&"


def write_png(path: Path, h: int = 20, w: int = 30) -> None:
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2, 0] = 200
    imageio.imwrite(path, img, format="PNG")


@pytest.fixture
def hostile_run(tmp_path) -> Run:
    """A run of experiment "report-demo" in a folder, with config values, class names and files named EVIL."""
    run = Run.create(
        "report-demo",
        {"dataset": EVIL, "seed": 3, "note": EVIL, "hidden": [8, 4]},
        out=tmp_path / "runs" / f"demo {EVIL.replace('/', '')}",
    )
    run.save_metrics(
        {
            "test_accuracy": 0.9123,
            "test_loss": 0.25,
            "train_seconds": 12.34,
            "parameters": 12345,
            "per_class_recall": {EVIL: 0.5, "cat": 1.0},
            "per_layer": {"layer1": {"knn_accuracy": 0.75, "dims": 32}, EVIL: {"knn_accuracy": 0.8}},
            "curve": [0.1, 0.2],
        }
    )
    for epoch in (1, 2, 3):
        run.log({"epoch": epoch, "train_loss": 1.0 / epoch, "val_accuracy": 0.5 + 0.1 * epoch})
    run.save_table("models", [{"model": EVIL, "accuracy": 0.91234, "train_seconds": 3.0}])
    write_png(run.figure("loss_curves"))
    write_png(run.figure(f"reconstructions_{EVIL.replace('/', '')}"), 10, 40)
    run.save_arrays("reconstructions", x=np.zeros((2, 3)))
    run.save_arrays("unrelated", y=np.ones(2))
    return run


@dataclass
class DemoConfig(BaseConfig):
    note: str = param("plain", "free text")
    fail: bool = param(False, "raise inside the run")


@pytest.fixture
def demo_experiment(monkeypatch):
    """A registered experiment `report-demo` that saves a figure and a table (removed after the test)."""
    from mlplab.experiments import EXPERIMENTS
    from mlplab.experiments.base import Experiment

    def run(cfg: DemoConfig, ctx) -> dict:
        if cfg.fail:
            raise RuntimeError("boom <b>")
        for epoch in (1, 2):
            ctx.run.log({"epoch": epoch, "train_loss": 1.0 / epoch})
        write_png(ctx.run.figure("samples"))
        ctx.run.save_table("models", [{"model": cfg.note, "accuracy": 0.5}])
        ctx.run.checkpoint("last").write_bytes(b"demo")  # so that --resume accepts the folder
        return {"test_accuracy": 0.75, "per_class": {"a": 0.5, "b": 1.0}}

    monkeypatch.setitem(EXPERIMENTS._items, "report-demo", Experiment("report-demo", DemoConfig, run, "demo"))
    return "report-demo"
