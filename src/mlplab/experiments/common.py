"""Config keys and helpers shared by the experiments that train a classifier."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.config import BaseConfig, param
from mlplab.data import Dataset, load_dataset
from mlplab.data import augment as aug
from mlplab.errors import UserError


OptimizerName = Literal["adam", "adamw", "sgd", "scratch-sgd", "scratch-sgdm", "scratch-adam"]
ScheduleName = Literal["none", "cosine", "step", "onecycle"]


@dataclass
class TrainConfig(BaseConfig):
    """The common training keys."""

    epochs: int = param(10, "passes over the training set", min=1)
    batch_size: int = param(128, "examples per step", min=1)
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    optimizer: OptimizerName = param(
        "adam", "optimizer (scratch-*: the hand-written ones of mlplab.optim)")
    weight_decay: float = param(0.0, "L2 weight decay", min=0)
    schedule: ScheduleName = param("none", "learning-rate schedule, stepped per epoch")
    val_size: int = param(-1, "validation examples taken from train; -1 = the dataset's default", min=-1)
    normalization: Literal["standard", "minus_one_one", "unit"] = param(
        "standard", "input normalisation: per-channel standardisation, [-1, 1], or [0, 1]")
    image_size: int = param(0, "resize images to this side (e.g. 28 for digits); 0 = native", min=0)
    tensorboard: bool = param(False, "also write per-epoch scalars for TensorBoard into RUN/tensorboard/")


def load_data(cfg: TrainConfig, device: torch.device, *, normalization: str | None = None) -> Dataset:
    return load_dataset(cfg.dataset, data_dir=cfg.data_dir or None, device=device, seed=cfg.seed,
                        val_size=None if cfg.val_size < 0 else cfg.val_size,
                        normalization=normalization or cfg.normalization, image_size=cfg.image_size)


def make_augment(names: list[str], ds: Dataset):
    """Batched augmentations by name: crop, flip, affine (padding is in normalised units of black)."""
    if not names:
        return None
    if not ds.is_image:
        raise UserError(f"augment={names} needs an image dataset; {ds.name!r} has no images")
    black = ds.from_pixels(torch.zeros(1, ds.input_shape[0], 1, 1))[0, 0, 0, 0].item()
    table = {"crop": lambda: aug.random_crop(max(1, ds.input_shape[-1] // 8), fill=black),
             "flip": lambda: aug.hflip(),
             "affine": lambda: aug.small_affine(fill=black)}
    unknown = [n for n in names if n not in table]
    if unknown:
        raise UserError(f"unknown augmentation {unknown[0]!r}; choose from: {', '.join(table)}")
    return aug.compose(*(table[n]() for n in names))
