"""The typed training keys that every experiment which trains a torch model shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlplab.config import BaseConfig, param

OptimizerName = Literal["adam", "adamw", "sgd", "scratch-sgd", "scratch-sgdm", "scratch-adam"]
ScheduleName = Literal["none", "cosine", "step", "onecycle"]


@dataclass
class TrainConfig(BaseConfig):
    """The common training keys."""

    epochs: int = param(10, "passes over the training set", min=1)
    batch_size: int = param(128, "examples per step", min=1)
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    optimizer: OptimizerName = param("adam", "optimizer (scratch-*: the hand-written ones of mlplab.optim)")
    weight_decay: float = param(0.0, "L2 weight decay", min=0)
    schedule: ScheduleName = param("none", "learning-rate schedule, stepped per epoch")
    val_size: int = param(-1, "validation examples taken from train; -1 = the dataset's default", min=-1)
    normalization: Literal["standard", "minus_one_one", "unit"] = param(
        "standard", "input normalisation: per-channel standardisation, [-1, 1], or [0, 1]"
    )
    precision: Literal["fp32", "bf16", "auto"] = param(
        "fp32",
        "training arithmetic: fp32, or bf16 autocast (matmuls in bfloat16, weights kept in fp32; refused where "
        "the CPU/GPU has no bf16 matrix instructions), or auto = bf16 where it is fast, else fp32",
    )
    image_size: int = param(0, "resize images to this side (e.g. 28 for digits); 0 = native", min=0, max=256)
