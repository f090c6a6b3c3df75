"""`moons`: the scratch MLP on two moons, its decision boundary, and why depth needs a careful init."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlplab.config import param
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.runs import Run
from mlplab.scratch import MLP, Diverged
from mlplab.train.scratch import Arrays, ScratchConfig, build, fit, load_arrays, save_weights

GRID = 200  # decision-boundary grid points per side


@dataclass
class MoonsConfig(ScratchConfig):
    dataset: str = param("moons", "registered dataset name; a 2-D one for the decision boundary")
    normalization: Literal["standard", "minus_one_one", "unit"] = param(
        "minus_one_one", "inputs in [-1, 1] from the training set's range (or standard, unit)"
    )
    depth_study: bool = param(True, "also train a deep network with standard-normal and with He init")
    deep_layers: int = param(8, "hidden layers of the depth study's networks", min=1)
    deep_width: int = param(30, "width of each of those layers", min=1)


@register_experiment("moons", MoonsConfig, smoke=("epochs=1", "deep_layers=4"))
def run(cfg: MoonsConfig, ctx: Context) -> dict:
    """Scratch MLP on two moons: curves, decision boundary, and a depth study (standard-normal vs He init)."""
    ds, data = load_arrays(cfg)
    if data.x_train.shape[1] != 2:
        raise UserError(
            f"moons draws a 2-D decision boundary; dataset {cfg.dataset!r} has "
            f"{data.x_train.shape[1]} features, use dataset=moons"
        )
    model = build(cfg, data)
    rows = fit(model, cfg, data, ctx.run)
    save_weights(ctx.run, "weights", model)
    save_boundary(ctx.run, model, data)
    metrics = {
        "test_accuracy": rows[-1]["test_accuracy"],
        "test_loss": rows[-1]["test_loss"],
        "train_loss": rows[-1]["train_loss"],
        "train_seconds": rows[-1]["train_seconds"],
        "steps": model.steps,
        "parameters": sum(p.size for p, _ in model.parameters()),
    }
    if cfg.depth_study:
        metrics.update(depth_study(cfg, ctx.run, data))
    return metrics


def save_boundary(run: Run, model: MLP, data: Arrays) -> None:
    """P(class 1) on a grid around the data, with the test points, for the decision-boundary figure."""
    lo = np.minimum(data.x_train.min(0), data.x_test.min(0)) - 0.2
    hi = np.maximum(data.x_train.max(0), data.x_test.max(0)) + 0.2
    gx, gy = np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID)
    grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2).astype(data.x_train.dtype)  # (GRID*GRID, 2)
    prob = model.predict_proba(grid)[:, -1].reshape(GRID, GRID)
    pred = model.predict_proba(data.x_test).argmax(1)
    run.save_arrays("boundary", grid_x=gx, grid_y=gy, prob=prob, x_test=data.x_test, y_test=data.y_test, pred_test=pred)


def depth_study(cfg: MoonsConfig, run: Run, data: Arrays) -> dict:
    """The same deep network with standard-normal and with He init: losses and per-layer norms per step."""
    hidden = [cfg.deep_width] * cfg.deep_layers
    out, arrays = {}, {}
    for init in ("normal", "he"):
        key = f"deep_{init}_"
        model = build(cfg, data, hidden=hidden, init=init, seed_offset=1)
        trace = NormTrace(model)
        try:
            rows = fit(model, cfg, data, run, prefix=key, on_step=trace, seed_offset=1)
            out.update(
                {
                    f"{key}diverged": False,
                    f"{key}test_accuracy": rows[-1][f"{key}test_accuracy"],
                    f"{key}test_loss": rows[-1][f"{key}test_loss"],
                }
            )
        except Diverged as d:
            trace.add_failure(d)
            out.update(
                {
                    f"{key}diverged": True,
                    f"{key}diverged_at_step": d.step,
                    f"{key}diverged_layer": d.layer,
                    f"{key}diverged_in": d.where,
                    f"{key}test_accuracy": None,
                }
            )
        arrays.update(trace.arrays(key))
    arrays["layers"] = np.array(trace.names)
    run.save_arrays("depth_study", **arrays)
    return out


class NormTrace:
    """Per step: the training loss and each layer's activation and gradient RMS (the on_step callback)."""

    def __init__(self, model: MLP):
        self.names = [layer.name for layer in model.layers]
        self.loss: list[float] = []
        self.act: list[list[float]] = []
        self.grad: list[list[float]] = []

    def __call__(self, model: MLP, loss: float) -> None:
        norms = model.layer_norms()
        self.loss.append(loss)
        self.act.append([norms.activation[n] for n in self.names])
        self.grad.append([norms.gradient[n] for n in self.names])

    def add_failure(self, d: Diverged) -> None:
        """The failing step: its activations (inf/NaN where they overflowed); gradients only if computed."""
        self.loss.append(np.nan)
        self.act.append([d.norms["activation"].get(n, np.nan) for n in self.names])
        self.grad.append([d.norms["gradient"].get(n, np.nan) if d.where != "output" else np.nan for n in self.names])

    def arrays(self, key: str) -> dict[str, np.ndarray]:
        return {
            f"{key}loss": np.array(self.loss),
            f"{key}act_rms": np.array(self.act).reshape(-1, len(self.names)),
            f"{key}grad_rms": np.array(self.grad).reshape(-1, len(self.names)),
        }
