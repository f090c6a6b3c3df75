"""What the autoencoder experiments share: the config base (inputs in [0, 1]), training one AE of
several in a run through the one Trainer, saving/loading its weights, and per-image errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from mlplab.config import param
from mlplab.data import Dataset
from mlplab.errors import UserError
from mlplab.experiments.common import TrainConfig, load_data
from mlplab.nn import MLPClassifier
from mlplab.nn.autoencoders import MLPAutoencoder  # noqa: F401  (registers the class for build_model)
from mlplab.runs import Run
from mlplab import train
from mlplab.train import FitResult, Trainer, make_optimizer, make_scheduler, save_weights


@dataclass
class AEImageConfig(TrainConfig):
    """Data keys of every AE experiment: pixels in [0, 1], the range of the sigmoid output, at MNIST's size."""

    normalization: Literal["unit"] = param("unit", "inputs in [0, 1] (the sigmoid output's range; fixed for AEs)")
    image_size: int = param(28, "resize images to this side: 28 is MNIST's own size and upsamples the 8×8 "
                                "digits; 0 = native", min=0, max=256)


@dataclass
class AEConfig(AEImageConfig):
    """Training keys of the MLP AE experiments."""

    schedule: Literal["none", "cosine", "step"] = param("cosine", "learning-rate schedule, stepped per epoch")
    batch_size: int = param(128, "examples per step", min=1)
    loss: Literal["mse", "bce"] = param("mse", "reconstruction loss minimised: mse per pixel or binary "
                                               "cross-entropy (mse is reported either way)")


def load_ae_data(cfg: AEConfig, device: torch.device) -> Dataset:
    """The dataset with pixels in [0, 1]."""
    return load_data(cfg, device, normalization="unit")


def check_sizes(key: str, sizes: list[int], ds: Dataset) -> None:
    """Code or hidden sizes must lie in 1..num_features (an AE that compresses, not one that copies)."""
    bad = [s for s in sizes if not 1 <= s <= ds.num_features]
    if bad:
        raise UserError(f"config key {key!r}: {bad[0]} is out of range; sizes must be in 1..{ds.num_features} "
                        f"(the number of inputs of {ds.name!r})")


def train_autoencoder(model: nn.Module, ds: Dataset, cfg: TrainConfig, run: Run | None = None,
                      generator: torch.Generator | None = None, *, name: str | None = None,
                      log_run: Run | None = None, epochs: int | None = None, resume: bool = False) -> FitResult:
    """Fit `model` on ds.train (validated on ds.val) through the Trainer.

    `run` gets the Trainer's checkpoints and rows (one model per run; `resume` continues them). For several
    models in one run pass run=None, a `name` and `log_run`: every epoch row goes to log_run's metrics.jsonl
    with "model": name. A classifier trained beside the AEs (a judge) is kept at its best validation accuracy.
    """
    device = next(model.parameters()).device
    epochs = epochs or cfg.epochs
    optimizer = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay,
                               device=device)
    callbacks = []
    if log_run is not None:
        callbacks.append(lambda trainer, row: log_run.log({"model": name, **row}))
    has_val, by_accuracy = len(ds.val) > 0, isinstance(model, MLPClassifier)
    monitor = ("val_accuracy" if by_accuracy else "val_loss") if has_val else "train_loss"
    trainer = Trainer(model, optimizer, run=run, generator=generator,
                      scheduler=make_scheduler(optimizer, cfg.schedule, epochs), callbacks=callbacks,
                      monitor=monitor, mode="max" if by_accuracy and has_val else "min")
    return trainer.fit(ds.train, ds.val, epochs=epochs, batch_size=cfg.batch_size, resume=resume)


def save_model(run: Run, name: str, model: nn.Module) -> Path:
    """Weights and spec as checkpoints/NAME.pt (readable by mlplab.train.read_checkpoint)."""
    path = run.checkpoint(name)
    save_weights(model, path)
    return path


def load_model(path, device: torch.device | str = "cpu") -> nn.Module:
    """A model saved by `save_model` (or a Trainer checkpoint), rebuilt from its spec, in eval mode."""
    return train.load_model(path).to(device).eval()


@torch.no_grad()
def reconstruct(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """model(x) in eval mode, batched; same shape as x (N, C, H, W) whatever shape the model returns."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch_size]).view_as(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


@torch.no_grad()
def encode(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """model.encode(x) in eval mode, batched: (N, code)."""
    was_training = model.training
    model.eval()
    out = torch.cat([model.encode(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def per_image_sse(recon: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Summed squared error per image, (N,), in float64."""
    diff = recon.reshape(len(recon), -1).double() - clean.reshape(len(clean), -1).double()
    return (diff * diff).sum(1)


def error_summary(sse: torch.Tensor, num_features: int) -> dict[str, float]:
    """Mean squared error per pixel and summed squared error per image, from per-image SSE."""
    return {"mse": float(sse.mean()) / num_features, "sse_per_image": float(sse.mean())}


def encoder_filters(model: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """The first encoder layer's weights as images, (units, *input_shape), each scaled to [0, 1]."""
    first = next(m for m in model.encoder if isinstance(m, nn.Linear))
    w = first.weight.detach().cpu()  # (units, D)
    lo, hi = w.min(1, keepdim=True).values, w.max(1, keepdim=True).values
    return ((w - lo) / (hi - lo).clamp_min(1e-12)).reshape(len(w), *input_shape)


def one_per_class(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The index of the first example of each class that occurs, (<= num_classes,)."""
    return torch.tensor([int((y == c).nonzero()[0]) for c in range(num_classes) if bool((y == c).any())])


def model_rows(history: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The metrics.jsonl rows of one model of a multi-model run."""
    return [r for r in history if r.get("model") == name]


def fit_and_save(model: nn.Module, ds: Dataset, cfg: AEConfig, run: Run, generator: torch.Generator | None,
                 name: str) -> FitResult:
    """One model of a multi-model run: Trainer(run=None), rows logged with "model": name, final weights
    saved as checkpoints/NAME.pt."""
    fit = train_autoencoder(model, ds, cfg, None, generator, name=name, log_run=run)
    save_model(run, name, model)
    return fit


def level_key(value: float) -> str:
    """0.5 -> "0.5", 1e-3 -> "0.001": the number as it appears in metric names."""
    return f"{value:g}"


def activity(codes: torch.Tensor, threshold: float) -> dict[str, float]:
    """Fraction of (image, unit) activations above threshold, the mean activation, never-active units."""
    active = codes > threshold  # (N, H)
    return {"active_fraction": float(active.double().mean()), "mean_activation": float(codes.double().mean()),
            "dead_units": int((~active.any(0)).sum())}
