"""`ae-undercomplete`: one hidden layer of h units (h < inputs), a sweep over h in one run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.analysis.reconstruction import activity, encoder_filters, error_summary, per_image_sse
from mlplab.config import param
from mlplab.data import one_per_class
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPAutoencoder
from mlplab.train import fit_named
from mlplab.train.autoencoders import AEConfig, check_sizes, unit_data


@dataclass
class UndercompleteConfig(AEConfig):
    hs: list[int] = param([64, 128, 256], "hidden sizes h, one AE each (in -> h -> in)", nonempty=True, item_min=1)
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu"] = param(
        "relu", "activation of the hidden layer"
    )
    epochs: int = param(15, "passes over the training set, for each h", min=1)


@register_experiment("ae-undercomplete", UndercompleteConfig, smoke=("epochs=2", "hs=[16,32]"))
def run(cfg: UndercompleteConfig, ctx: Context) -> dict:
    """Single-hidden-layer AEs in -> h -> in for h in hs: loss curves, reconstructions, encoder filters."""
    ds = unit_data(cfg, ctx.device)
    check_sizes("hs", cfg.hs, ds)
    shown = one_per_class(ds.test.y.cpu(), ds.num_classes)
    x_test = ds.test.x
    metrics: dict[str, float] = {}
    rows, recons = [], []
    for h in cfg.hs:
        model = MLPAutoencoder(ds.num_features, [], h, [], code_activation=cfg.activation, recon_loss=cfg.loss).to(
            ctx.device
        )
        fit = fit_named(model, ds, cfg, ctx.run, ctx.generator, f"h{h}", resume=ctx.resume)
        recon = model.reconstruct(x_test).cpu()
        summary = error_summary(per_image_sse(recon, x_test.cpu()), ds.num_features)
        metrics[f"mse_h{h}"], metrics[f"sse_per_image_h{h}"] = summary["mse"], summary["sse_per_image"]
        dead = activity(model.encode(x_test).cpu(), 0.0)["dead_units"]
        metrics[f"dead_units_h{h}"] = dead
        rows.append(
            {
                "h": h,
                **summary,
                "dead_units": dead,
                "parameters": sum(p.numel() for p in model.parameters()),
                "train_seconds": fit.train_seconds,
            }
        )
        recons.append(recon[shown])
        ctx.run.save_arrays(f"filters_h{h}", filters=encoder_filters(model, ds.input_shape))
    ctx.run.save_arrays(
        "reconstructions", hs=cfg.hs, index=shown, original=x_test.cpu()[shown], recon=torch.stack(recons)
    )
    ctx.run.save_table("errors_by_h", rows)
    return metrics
