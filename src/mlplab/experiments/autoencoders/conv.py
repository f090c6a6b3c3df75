"""`ae-conv`: a convolutional AE (28 -> 14 -> 7 -> 3) with three decoders, beside single-layer MLP AEs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.analysis.reconstruction import per_image_mse
from mlplab.config import param
from mlplab.data import Dataset, one_per_class
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import ConvAutoencoder, MLPAutoencoder
from mlplab.nn.conv_autoencoders import DECODERS, parameter_count, pooled_sides
from mlplab.train import fit_named
from mlplab.train.autoencoders import AEImageConfig, check_sizes, unit_images


@dataclass
class ConvConfig(AEImageConfig):
    epochs: int = param(8, "passes over the training set, for every model", min=1)
    lr: float = param(2e-3, "learning rate", min=0, min_exclusive=True)
    channels: list[int] = param(
        [8, 16, 16], "channels of the encoder's conv layers (one 2x2 max pool after each)", nonempty=True, item_min=1
    )
    decoders: list[str] = param(
        list(DECODERS),
        "decoders to train: unpool (max-unpooling with the pooling indices), transpose (transposed convolutions), both",
        nonempty=True,
    )
    mlp_codes: list[int] = param(
        [144, 64, 4],
        "single-hidden-layer MLP AEs 784-h-784 trained beside them (144 = "
        "the conv code's size 16x3x3; 64 = ae-undercomplete's smallest; 4 = about the conv "
        "AEs' parameter count); [] = none",
        item_min=1,
    )

    def check(self) -> None:
        bad = [d for d in self.decoders if d not in DECODERS]
        if bad:
            raise UserError(f"config key 'decoders': {bad[0]!r} is not a decoder; choose from {', '.join(DECODERS)}")


@register_experiment("ae-conv", ConvConfig, smoke=("image_size=16", "epochs=1", "mlp_codes=[16]"))
def run(cfg: ConvConfig, ctx: Context) -> dict:
    """Conv AE with max-unpooling, transposed-conv and combined decoders vs MLP AEs: test error and parameters."""
    ds = unit_images(cfg, ctx.device)
    c, h, w = ds.input_shape
    sides = pooled_sides(h, len(cfg.channels))
    if h != w or sides[-1] < 1:
        raise UserError(
            f"images of {ds.name!r} are {h}x{w}; the conv AE needs square images of side at least "
            f"{2 ** len(cfg.channels)} for {len(cfg.channels)} poolings (e.g. image_size=28)"
        )
    check_sizes("mlp_codes", cfg.mlp_codes, ds)
    models: dict[str, torch.nn.Module] = {f"conv_{d}": ConvAutoencoder(c, h, cfg.channels, d) for d in cfg.decoders}
    models.update({f"mlp_h{k}": MLPAutoencoder(ds.num_features, [], k, []) for k in cfg.mlp_codes})
    rows, metrics = [], {}
    code_numbers = cfg.channels[-1] * sides[-1] ** 2
    for name, model in models.items():
        model = model.to(ctx.device)
        result = fit_named(model, ds, cfg, ctx.run, ctx.generator, name, resume=ctx.resume)
        err = per_image_mse(model, ds.test.x)  # (N,)
        is_conv = name.startswith("conv_")
        row = {
            "model": name,
            "architecture": (
                f"conv {'-'.join(map(str, cfg.channels))} / {name[5:]} decoder"
                if is_conv
                else f"MLP {ds.num_features}-{model.spec['code']}-{ds.num_features}"
            ),
            "code_numbers": code_numbers if is_conv else model.spec["code"],
            "side_information": "pooling indices" if is_conv and name != "conv_transpose" else "none",
            "parameters": parameter_count(model),
            "test_mse": float(err.mean()),
            "test_sse_per_image": float(err.mean() * ds.num_features),
            "train_seconds": result.train_seconds,
        }
        rows.append(row)
        metrics.update({f"{name}_{k}": row[k] for k in ("test_mse", "test_sse_per_image", "parameters")})
    ctx.run.save_table("models", rows)
    save_reconstructions(ctx, ds, models)
    return metrics


def save_reconstructions(ctx: Context, ds: Dataset, models: dict[str, torch.nn.Module]) -> None:
    idx = one_per_class(ds.test.y.cpu(), ds.num_classes).to(ds.test.x.device)
    x = ds.test.x[idx]
    ctx.run.save_arrays(
        "reconstructions",
        original=x,
        names=list(models),
        **{f"recon_{i}": m.reconstruct(x) for i, m in enumerate(models.values())},
    )
