"""`scratch-mnist`: the from-scratch NumPy MLP on MNIST (or any image dataset), trained by hand-written SGD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlplab.config import param
from mlplab.experiments.base import Context, register_experiment
from mlplab.train.scratch import ScratchConfig, build, fit, load_arrays, save_weights


@dataclass
class ScratchMnistConfig(ScratchConfig):
    """Defaults reach >= 97% on MNIST in 3 epochs; the default dataset (digits) runs offline."""

    epochs: int = param(3, "passes over the training set", min=1)
    batch_size: int = param(64, "examples per SGD step", min=1)
    lr: float = param(0.01, "SGD learning rate", min=0, min_exclusive=True)
    hidden: list[int] = param([256], "hidden layer sizes, e.g. hidden=[100]", nonempty=True, item_min=1, item_max=16384)
    dtype: Literal["float64", "float32"] = param("float32", "floating-point type (float32: faster matmuls)")


@register_experiment("scratch-mnist", ScratchMnistConfig, smoke=("epochs=1",))
def run(cfg: ScratchMnistConfig, ctx: Context) -> dict:
    """From-scratch NumPy MLP (no autograd) with SGD; use dataset=mnist data_dir=... for the 97% target."""
    ds, data = load_arrays(cfg)
    model = build(cfg, data)
    rows = fit(model, cfg, data, ctx.run)
    save_weights(ctx.run, "weights", model)
    probs = model.predict_proba(data.x_test)
    ctx.run.save_arrays("predictions", y_true=data.y_test, probs=probs, classes=ds.classes)
    last = rows[-1]
    return {
        "test_accuracy": last["test_accuracy"],
        "test_loss": last["test_loss"],
        "train_loss": last["train_loss"],
        **({"val_accuracy": last["val_accuracy"]} if "val_accuracy" in last else {}),
        "train_seconds": last["train_seconds"],
        "epochs_run": len(rows),
        "steps": model.steps,
        "parameters": sum(p.size for p, _ in model.parameters()),
        "dataset": ds.name,
        "dtype": cfg.dtype,
    }
