"""`gradcheck`: every hand-written derivative of the scratch engine against torch.autograd and finite differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from mlplab.analysis.constants import AUTOGRAD_PASS, TWIN_PASS
from mlplab.analysis.scratch_vs_torch import TwinRun, check_case, twin_run
from mlplab.config import BaseConfig, param
from mlplab.data import load_dataset
from mlplab.experiments.base import Context, register_experiment
from mlplab.scratch.finite_differences import all_cases
from mlplab.train import Pieces


@dataclass
class GradcheckConfig(BaseConfig):
    """Sizes of the checked inputs and the settings of the twin run (everything in float64)."""

    batch: int = param(4, "examples in each checked input", min=1, max=256)
    in_features: int = param(5, "input width of the checked layers and MLPs", min=1, max=512)
    out_features: int = param(3, "output width (classes of the checked losses and MLPs)", min=2, max=64)
    check_hidden: list[int] = param([7, 6], "hidden sizes of the checked MLPs", nonempty=True, item_min=1, item_max=128)
    step: float = param(
        1e-6, "finite-difference step h of the central differences", min=0, min_exclusive=True, max=1e-2
    )
    twin_steps: int = param(200, "SGD steps of the twin run (scratch vs torch.nn, same weights and batches)", min=1)
    hidden: list[int] = param([30, 30], "hidden sizes of the twin run's MLP", nonempty=True, item_min=1)
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid"] = param("relu", "the twin run's activation")
    batch_size: int = param(32, "the twin run's batch size", min=1)
    lr: float = param(0.05, "the twin run's SGD learning rate", min=0, min_exclusive=True)
    momentum: float = param(0.9, "the twin run's SGD momentum", min=0, max=0.999)
    normalization: Literal["standard", "minus_one_one", "unit"] = param("standard", "the twin run's inputs")


@register_experiment("gradcheck", GradcheckConfig, smoke=("twin_steps=20",))
def run(cfg: GradcheckConfig, ctx: Context) -> dict:
    """Hand-written gradients vs torch.autograd and finite differences, and a 200-step twin run vs torch.nn."""
    rng = np.random.default_rng(cfg.seed)
    cases = all_cases(rng, cfg.batch, cfg.in_features, cfg.out_features, tuple(cfg.check_hidden))
    done = Pieces(ctx.run, "gradcheck", resume=ctx.resume)  # each finished piece, so that a resume skips it
    rows = [
        done.get(f"case{i}:{case.name}", lambda case=case: check_case(case, cfg.step)) for i, case in enumerate(cases)
    ]
    ctx.run.save_table("gradient_check", rows)

    def twin() -> dict[str, torch.Tensor]:
        ds = load_dataset(cfg.dataset, data_dir=cfg.data_dir or None, seed=cfg.seed, normalization=cfg.normalization)
        x = ds.train.x.flatten(1).double().numpy()  # (N, D)
        result = twin_run(
            x,
            ds.train.y.numpy(),
            ds.num_classes,
            cfg.hidden,
            steps=cfg.twin_steps,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            momentum=cfg.momentum,
            activation=cfg.activation,
            seed=cfg.seed,
        )
        return {
            "scratch_loss": torch.from_numpy(result.scratch_loss),
            "torch_loss": torch.from_numpy(result.torch_loss),
            "examples": len(x),
        }

    kept = done.get("twin_run", twin)
    twin = TwinRun(kept["scratch_loss"].numpy(), kept["torch_loss"].numpy())
    ctx.run.save_arrays("twin_run", scratch_loss=twin.scratch_loss, torch_loss=twin.torch_loss)
    ctx.run.rewrite_history(
        [
            {"step": step, "scratch_loss": a, "torch_loss": b}  # at once: no torn or doubled rows
            for step, (a, b) in enumerate(zip(twin.scratch_loss, twin.torch_loss, strict=True), start=1)
        ]
    )

    auto = max(r["max_rel_error_autograd"] for r in rows)
    numeric = max(r["max_rel_error_finite_diff"] for r in rows)
    twin_diff = float(twin.rel_diff.max())
    return {
        "max_rel_error_autograd": auto,
        "max_rel_error_finite_diff": numeric,
        "max_abs_error_autograd": max(r["max_abs_error_autograd"] for r in rows),
        "twin_max_rel_diff": twin_diff,
        "twin_steps": cfg.twin_steps,
        "components_checked": len(rows),
        "twin_examples": kept["examples"],
        "passed": bool(auto <= AUTOGRAD_PASS and twin_diff <= TWIN_PASS),
    }
