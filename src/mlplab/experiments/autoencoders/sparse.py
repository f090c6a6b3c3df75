"""`ae-sparse`: an overcomplete AE with an L1 penalty on its hidden activations, at several strengths."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mlplab.analysis.reconstruction import activity, encoder_filters, error_summary, per_image_sse
from mlplab.config import param
from mlplab.data import one_per_class
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPAutoencoder
from mlplab.train import fit_named
from mlplab.train.autoencoders import AEConfig, level_key, unit_data


@dataclass
class SparseConfig(AEConfig):
    hidden: int = param(1156, "hidden (code) units, more than inputs: overcomplete; 1156 = 34×34", min=1)
    penalties: list[float] = param(
        [3e-3, 1e-2, 3e-2],
        "L1 strengths on the mean |hidden activation|, one AE each; the standard AE (no penalty) is always trained too",
        nonempty=True,
        item_min=0,
    )
    active_threshold: float = param(1e-3, "a hidden unit counts as active on an image above this value", min=0)
    epochs: int = param(10, "passes over the training set, for each model", min=1)


@register_experiment("ae-sparse", SparseConfig, smoke=("epochs=2", "hidden=100"))
def run(cfg: SparseConfig, ctx: Context) -> dict:
    """Overcomplete AE (1156 ReLU units) with L1 on the activations: error, active units, activation maps."""
    ds = unit_data(cfg, ctx.device)
    x_test = ds.test.x
    shown = one_per_class(ds.test.y.cpu(), ds.num_classes)
    metrics: dict[str, float] = {}
    rows, maps, recons = [], [], []
    names = ["standard"] + [f"l1_{level_key(p)}" for p in cfg.penalties]
    for name, penalty in zip(names, [0.0, *cfg.penalties], strict=True):
        model = MLPAutoencoder(
            ds.num_features, [], cfg.hidden, [], code_activation="relu", l1=penalty, recon_loss=cfg.loss
        ).to(ctx.device)
        fit = fit_named(model, ds, cfg, ctx.run, ctx.generator, name, resume=ctx.resume)
        recon = model.reconstruct(x_test).cpu()
        codes = model.encode(x_test).cpu()  # (N, hidden)
        stats = {
            **error_summary(per_image_sse(recon, x_test.cpu()), ds.num_features),
            **activity(codes, cfg.active_threshold),
        }
        metrics.update({f"{key}_{name}": value for key, value in stats.items()})
        rows.append({"model": name, "penalty": penalty, **stats, "train_seconds": fit.train_seconds})
        maps.append(codes[shown])
        recons.append(recon[shown])
        ctx.run.save_arrays(f"filters_{name}", filters=encoder_filters(model, ds.input_shape))
    side = math.ceil(math.sqrt(cfg.hidden))
    ctx.run.save_arrays(
        "activations",
        names=names,
        penalties=[0.0, *cfg.penalties],
        index=shown,
        original=x_test.cpu()[shown],
        codes=torch.stack(maps),
        recon=torch.stack(recons),
        side=side,
    )
    ctx.run.save_table("sparsity", rows)
    return metrics
