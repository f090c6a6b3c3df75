"""Training keys and data of the autoencoder experiments: pixels in [0, 1] (the sigmoid output's range)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.config import param
from mlplab.data import Dataset, dataset_for
from mlplab.errors import UserError
from mlplab.train.config import TrainConfig


@dataclass
class AEImageConfig(TrainConfig):
    """Data keys of every AE experiment: pixels in [0, 1], the range of the sigmoid output, at MNIST's size."""

    normalization: Literal["unit"] = param("unit", "inputs in [0, 1] (the sigmoid output's range; fixed for AEs)")
    image_size: int = param(
        28,
        "resize images to this side: 28 is MNIST's own size and upsamples the 8×8 digits; 0 = native",
        min=0,
        max=256,
    )


@dataclass
class AEConfig(AEImageConfig):
    """Training keys of the MLP AE experiments."""

    schedule: Literal["none", "cosine", "step"] = param("cosine", "learning-rate schedule, stepped per epoch")
    batch_size: int = param(128, "examples per step", min=1)
    loss: Literal["mse", "bce"] = param(
        "mse", "reconstruction loss minimised: mse per pixel or binary cross-entropy (mse is reported either way)"
    )


def unit_data(cfg: TrainConfig, device: torch.device) -> Dataset:
    """The dataset with pixels in [0, 1]."""
    return dataset_for(cfg, device, normalization="unit")


def unit_images(cfg: TrainConfig, device: torch.device) -> Dataset:
    """The dataset in [0, 1]; UserError for datasets without images."""
    ds = unit_data(cfg, device)
    if not ds.is_image:
        raise UserError(
            f"dataset {ds.name!r} has no images; autoencoders here need an image dataset "
            "(digits, mnist, fashion-mnist, kmnist)"
        )
    return ds


def check_sizes(key: str, sizes: int | list[int], ds: Dataset) -> None:
    """Code or hidden sizes must lie in 1..num_features (an AE that compresses, not one that copies)."""
    many = isinstance(sizes, list)
    bad = [s for s in (sizes if many else [sizes]) if not 1 <= s <= ds.num_features]
    if bad:
        raise UserError(
            f"config key {key!r}: {bad[0]} is out of range; {'sizes' if many else 'it'} must be in "
            f"1..{ds.num_features} (the number of inputs of {ds.name!r})"
        )


def level_key(value: float) -> str:
    """0.5 -> "0.5", 1e-3 -> "0.001": the number as it appears in metric and model names."""
    return f"{value:g}"
