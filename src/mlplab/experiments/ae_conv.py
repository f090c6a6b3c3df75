"""`ae-conv`: a convolutional AE (28 -> 14 -> 7 -> 3) with three decoders, beside single-layer MLP AEs."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.config import param
from mlplab.data import Dataset
from mlplab.errors import UserError
from mlplab.experiments.ae_common import AEImageConfig, reconstruct, save_model
from mlplab.experiments.ae_more_common import fit, load_images, per_image_mse
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn.autoencoders import MLPAutoencoder
from mlplab.nn.conv_autoencoders import DECODERS, ConvAutoencoder, parameter_count, pooled_sides


@dataclass
class ConvConfig(AEImageConfig):
    epochs: int = param(8, "passes over the training set, for every model", min=1)
    lr: float = param(2e-3, "learning rate", min=0, min_exclusive=True)
    channels: list[int] = param([8, 16, 16], "channels of the encoder's conv layers (one 2x2 max pool after each)",
                                nonempty=True, item_min=1)
    decoders: list[str] = param(list(DECODERS), "decoders to train: unpool (max-unpooling with the pooling "
                                "indices), transpose (transposed convolutions), both", nonempty=True)
    mlp_codes: list[int] = param([144, 64, 4], "single-hidden-layer MLP AEs 784-h-784 trained beside them (144 = "
                                 "the conv code's size 16x3x3; 64 = ae-undercomplete's smallest; 4 = about the conv "
                                 "AEs' parameter count); [] = none", item_min=1)

    def check(self) -> None:
        bad = [d for d in self.decoders if d not in DECODERS]
        if bad:
            raise UserError(f"config key 'decoders': {bad[0]!r} is not a decoder; choose from {', '.join(DECODERS)}")


@register_experiment("ae-conv", ConvConfig, smoke=("image_size=16", "epochs=1", "mlp_codes=[16]"))
def run(cfg: ConvConfig, ctx: Context) -> dict:
    """Conv AE with max-unpooling, transposed-conv and combined decoders vs MLP AEs: test error and parameters."""
    ds = load_images(cfg, ctx)
    c, h, w = ds.input_shape
    sides = pooled_sides(h, len(cfg.channels))
    if h != w or sides[-1] < 1:
        raise UserError(f"images of {ds.name!r} are {h}x{w}; the conv AE needs square images of side at least "
                        f"{2 ** len(cfg.channels)} for {len(cfg.channels)} poolings (e.g. image_size=28)")
    too_big = [k for k in cfg.mlp_codes if k > ds.num_features]
    if too_big:
        raise UserError(f"config key 'mlp_codes': {too_big[0]} is out of range; a code must be 1..{ds.num_features}")
    models: dict[str, torch.nn.Module] = {f"conv_{d}": ConvAutoencoder(c, h, cfg.channels, d) for d in cfg.decoders}
    models.update({f"mlp_h{k}": MLPAutoencoder(ds.num_features, [], k, []) for k in cfg.mlp_codes})
    rows, metrics = [], {}
    code_numbers = cfg.channels[-1] * sides[-1] ** 2
    for name, model in models.items():
        model = model.to(ctx.device)
        result = fit(model, cfg, ctx, ds, name=name)
        save_model(ctx.run, name, model)
        err = per_image_mse(model, ds.test.x)  # (N,)
        is_conv = name.startswith("conv_")
        row = {"model": name,
               "architecture": (f"conv {'-'.join(map(str, cfg.channels))} / {name[5:]} decoder" if is_conv
                                else f"MLP {ds.num_features}-{model.spec['code']}-{ds.num_features}"),
               "code_numbers": code_numbers if is_conv else model.spec["code"],
               "side_information": "pooling indices" if is_conv and name != "conv_transpose" else "none",
               "parameters": parameter_count(model), "test_mse": float(err.mean()),
               "test_sse_per_image": float(err.mean() * ds.num_features), "train_seconds": result.train_seconds}
        rows.append(row)
        metrics.update({f"{name}_{k}": row[k] for k in ("test_mse", "test_sse_per_image", "parameters")})
    ctx.run.save_table("models", rows)
    save_reconstructions(ctx, ds, models)
    ctx.run.add_note("Convolutional decoders", explain(rows, code_numbers))
    return metrics


def one_per_class(ds: Dataset) -> torch.Tensor:
    """Index of the first test image of each class."""
    y = ds.test.y.cpu()
    return torch.tensor([int((y == k).nonzero()[0]) for k in range(ds.num_classes) if (y == k).any()])


def save_reconstructions(ctx: Context, ds: Dataset, models: dict[str, torch.nn.Module]) -> None:
    idx = one_per_class(ds).to(ds.test.x.device)
    x = ds.test.x[idx]
    ctx.run.save_arrays("reconstructions", original=x, names=list(models),
                        **{f"recon_{i}": reconstruct(m, x) for i, m in enumerate(models.values())})


def explain(rows: list[dict], code_numbers: int) -> str:
    best = min(rows, key=lambda r: r["test_sse_per_image"])
    text = "; ".join(f"{r['model']} {r['test_sse_per_image']:.2f} per image ({r['parameters']:,} parameters)"
                     for r in rows)
    return (f"Test squared error per image: {text}. Lowest: {best['model']}. The conv code holds {code_numbers} "
            "numbers; the unpool and both decoders also receive the pooling indices (where each maximum was), "
            "side information that a code of the same size alone does not carry. The MLP AEs have a linear code "
            "layer and a sigmoid output.")
