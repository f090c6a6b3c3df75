"""Training the from-scratch NumPy MLP in a run: its config keys, the data as arrays, the epoch loop, saved weights."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlplab.config import BaseConfig, param
from mlplab.data import Dataset, load_dataset
from mlplab.runs import Run
from mlplab.scratch import MLP
from mlplab.scratch.loop import train_epoch
from mlplab.tensorboard import ScalarWriter


@dataclass
class ScratchConfig(BaseConfig):
    """Keys of a scratch-engine training run (SGD with momentum, no autograd)."""

    epochs: int = param(10, "passes over the training set", min=1)
    batch_size: int = param(32, "examples per SGD step", min=1)
    lr: float = param(0.05, "SGD learning rate", min=0, min_exclusive=True)
    momentum: float = param(0.9, "SGD momentum (torch.optim.SGD semantics, dampening 0)", min=0, max=0.999)
    weight_decay: float = param(0.0, "L2 weight decay added to the gradient", min=0)
    hidden: list[int] = param(
        [30, 30], "hidden layer sizes, e.g. hidden=[30,30]", nonempty=True, item_min=1, item_max=16384
    )
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid"] = param("relu", "hidden activation")
    init: Literal["he", "xavier", "normal"] = param("he", "weight init: He, Xavier, or plain standard normal")
    dtype: Literal["float64", "float32"] = param("float64", "floating-point type of every array")
    val_size: int = param(-1, "validation examples taken from train; -1 = the dataset's default", min=-1)
    normalization: Literal["standard", "minus_one_one", "unit"] = param(
        "standard", "input normalisation: per-channel standardisation, [-1, 1], or [0, 1]"
    )
    image_size: int = param(0, "resize images to this side (e.g. 28 for digits); 0 = native", min=0, max=256)


@dataclass
class Arrays:
    """A dataset's splits as flat NumPy arrays: x (N, D) in the model's dtype, y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


def load_arrays(cfg: ScratchConfig, normalization: str | None = None) -> tuple[Dataset, Arrays]:
    ds = load_dataset(
        cfg.dataset,
        data_dir=cfg.data_dir or None,
        device="cpu",
        seed=cfg.seed,
        val_size=None if cfg.val_size < 0 else cfg.val_size,
        normalization=normalization or cfg.normalization,
        image_size=cfg.image_size,
        test_size=cfg.test_size,
        skip_bad=cfg.skip_bad,
    )

    def flat(split) -> tuple[np.ndarray, np.ndarray]:
        return (np.ascontiguousarray(split.x.flatten(1).numpy(), dtype=cfg.dtype), split.y.numpy().astype(np.int64))

    return ds, Arrays(*flat(ds.train), *flat(ds.val), *flat(ds.test), ds.num_classes)


def build(
    cfg: ScratchConfig, data: Arrays, hidden: list[int] | None = None, init: str | None = None, seed_offset: int = 0
) -> MLP:
    return MLP(
        data.x_train.shape[1],
        hidden or cfg.hidden,
        data.num_classes,
        activation=cfg.activation,
        init=init or cfg.init,
        dtype=cfg.dtype,
        seed=cfg.seed + seed_offset,
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
    )


def fit(
    model: MLP,
    cfg: ScratchConfig,
    data: Arrays,
    run: Run | None,
    *,
    prefix: str = "",
    on_step: Callable[[MLP, float], None] | None = None,
    seed_offset: int = 0,
) -> list[dict]:
    """Train for cfg.epochs; after each epoch evaluate and (with a run) log one metrics.jsonl row.

    Keys carry `prefix` (e.g. "deep_he_") so that several networks can share one run's history.
    """
    rng = np.random.default_rng(cfg.seed + 1000 + seed_offset)  # the batch order
    rows, elapsed, writer = [], 0.0, None
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        train_loss = train_epoch(model, data.x_train, data.y_train, cfg.batch_size, rng, on_step)
        elapsed += time.perf_counter() - start
        row = {"epoch": epoch, f"{prefix}train_loss": train_loss}
        if len(data.y_val):
            val = model.evaluate(data.x_val, data.y_val)
            row.update({f"{prefix}val_loss": val["loss"], f"{prefix}val_accuracy": val["accuracy"]})
        test = model.evaluate(data.x_test, data.y_test)
        row.update(
            {
                f"{prefix}test_loss": test["loss"],
                f"{prefix}test_accuracy": test["accuracy"],
                f"{prefix}train_seconds": elapsed,
            }
        )
        rows.append(row)
        if run is not None:
            run.log(row)
            if cfg.tensorboard:
                writer = writer or ScalarWriter(run.path / "tensorboard")
                writer.write(row, epoch)
    return rows


def save_weights(run: Run, name: str, model: MLP) -> None:
    """The trained weights by torch-style name, so that anyone can rebuild the network from the folder."""
    run.save_arrays(name, **{k.replace(".", "_"): v for k, v in model.state().items()})
