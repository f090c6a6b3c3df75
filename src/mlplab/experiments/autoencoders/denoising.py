"""`ae-denoising`: denoising AEs (one per noise level) against the standard AE on the same noisy inputs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.analysis.reconstruction import encoder_filters, error_summary, per_image_sse
from mlplab.config import param
from mlplab.data import one_per_class
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPAutoencoder
from mlplab.nn.noise import gaussian_noise, salt_and_pepper
from mlplab.train import fit_named
from mlplab.train.autoencoders import AEConfig, check_sizes, level_key, unit_data


@dataclass
class DenoisingConfig(AEConfig):
    sigmas: list[float] = param(
        [0.3, 0.5, 0.8, 0.9], "Gaussian noise std devs (pixels in [0, 1]); one denoising AE each", item_min=0
    )
    fractions: list[float] = param(
        [0.1, 0.3, 0.5], "salt-and-pepper: fractions of pixels set to 0 or 1; one denoising AE each", item_min=0
    )
    encoder: list[int] = param([512], "encoder hidden sizes, input -> ... -> code", item_min=1)
    code: int = param(128, "code units", min=1)
    clip: bool = param(True, "clamp Gaussian-noisy images to [0, 1] (they stay images)")
    epochs: int = param(10, "passes over the training set, for each model", min=1)

    def check(self) -> None:
        bad = [f for f in self.fractions if f > 1]
        if bad:
            raise UserError(
                f"config key 'fractions': {bad[0]!r} is out of range; a fraction of pixels must be in [0, 1]"
            )
        if not self.sigmas and not self.fractions:
            raise UserError("config keys 'sigmas' and 'fractions' are both empty; give at least one noise level")


def noise_levels(cfg: DenoisingConfig) -> list[tuple[str, str, float]]:
    """(name, noise kind, level) for every denoising AE."""
    return [(f"sigma{level_key(s)}", "gaussian", s) for s in cfg.sigmas] + [
        (f"sp{level_key(f)}", "salt_pepper", f) for f in cfg.fractions
    ]


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator, clip: bool) -> torch.Tensor:
    return (
        gaussian_noise(x, level, generator, clip=clip) if kind == "gaussian" else salt_and_pepper(x, level, generator)
    )


@register_experiment("ae-denoising", DenoisingConfig, smoke=("epochs=2", "sigmas=[0.5]", "fractions=[0.3]"))
def run(cfg: DenoisingConfig, ctx: Context) -> dict:
    """Denoising AEs for Gaussian and salt-and-pepper noise vs the standard AE: error against the clean image."""
    ds = unit_data(cfg, ctx.device)
    check_sizes("code", cfg.code, ds)

    def build(kind: str = "none", level: float = 0.0) -> MLPAutoencoder:
        return MLPAutoencoder(
            ds.num_features,
            cfg.encoder,
            cfg.code,
            cfg.encoder[::-1],
            noise=kind,
            noise_level=level,
            recon_loss=cfg.loss,
            clip_noise=cfg.clip,
        ).to(ctx.device)

    clean = ds.test.x.cpu()
    shown = one_per_class(ds.test.y.cpu(), ds.num_classes)
    standard = build()
    fit_named(standard, ds, cfg, ctx.run, ctx.generator, "standard", resume=ctx.resume)
    ctx.run.save_arrays("filters_standard", filters=encoder_filters(standard, ds.input_shape))
    metrics = {
        "standard_sse_per_image_clean": error_summary(
            per_image_sse(standard.reconstruct(ds.test.x).cpu(), clean), ds.num_features
        )["sse_per_image"]
    }
    rows, figure = [], {"noisy": [], "standard": [], "denoising": []}
    for i, (name, kind, level) in enumerate(noise_levels(cfg)):
        # the same noisy test images for both models, fixed by the seed and the level's position
        noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(cfg.seed * 1000 + i), cfg.clip)
        model = build(kind, level)
        fit_named(model, ds, cfg, ctx.run, ctx.generator, name, resume=ctx.resume)
        ctx.run.save_arrays(f"filters_{name}", filters=encoder_filters(model, ds.input_shape))
        errors = {
            "noisy": per_image_sse(noisy, clean),
            "standard": per_image_sse(standard.reconstruct(noisy.to(ctx.device)).cpu(), clean),
            "denoising": per_image_sse(model.reconstruct(noisy.to(ctx.device)).cpu(), clean),
        }
        row = {"noise": name, "kind": kind, "level": level}
        for who, sse in errors.items():
            row[f"{who}_sse_per_image"] = error_summary(sse, ds.num_features)["sse_per_image"]
            metrics[f"{who}_sse_per_image_{name}"] = row[f"{who}_sse_per_image"]
        row["improvement"] = 1 - row["denoising_sse_per_image"] / row["standard_sse_per_image"]
        metrics[f"improvement_{name}"] = row["improvement"]
        rows.append(row)
        figure["noisy"].append(noisy[shown])
        figure["standard"].append(standard.reconstruct(noisy[shown].to(ctx.device)).cpu())
        figure["denoising"].append(model.reconstruct(noisy[shown].to(ctx.device)).cpu())
    ctx.run.save_arrays(
        "denoised",
        names=[r["noise"] for r in rows],
        index=shown,
        original=clean[shown],
        **{k: torch.stack(v) for k, v in figure.items()},
    )
    ctx.run.save_table("denoising", rows)
    return metrics
