"""Frozen models for `dreams`: a `classify` run given as model=, or default MLPs and a CNN judge, trained once
and then read from the model cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mlplab.cache import cached_run
from mlplab.data import Dataset, dataset_for, default_data_dir
from mlplab.errors import UserError
from mlplab.nn import SmallCNN
from mlplab.runs import Run
from mlplab.train.checkpoint import load_model, model_from_run
from mlplab.train.classifier import ClassifierConfig, train_classifier
from mlplab.train.config import TrainConfig
from mlplab.train.trainer import Trainer

CACHE_VERSION = 1  # bump when the training recipe changes, so old cache entries are not reused
NOT_MODEL_KEYS = ("data_dir", "device", "tensorboard", "layers", "knn_k")  # keys that do not change the weights
SOURCE_KEYS = ("test_size", "skip_bad")  # read by users' sources only: part of data_key
JUDGE_SEED_OFFSET = 7919  # the judge never shares a seed with the models it judges


@dataclass
class Frozen:
    """A trained model, where it came from (cached, trained or run) and its test accuracy."""

    model: nn.Module
    source: str
    path: Path
    test_accuracy: float


def default_cache_dir() -> Path:
    """$MLPLAB_CACHE, else `models/` beside the default data folder."""
    env = os.environ.get("MLPLAB_CACHE")
    return Path(env).expanduser() if env else default_data_dir().parent / "models"


def cache_root(cache_dir: str) -> Path:
    return (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()).resolve()


def open_classifier_run(path: str) -> tuple[Run, ClassifierConfig]:
    """The `classify` run behind model=PATH and its classifier config; UserError when it is not one."""
    folder = Path(path).expanduser()
    if not (folder / "config.yaml").is_file():
        raise UserError(
            f"model={path!r} is not a run folder (no config.yaml); give the folder of a `mlplab run classify` run"
        )
    run = Run.open(folder)
    if run.experiment != "classify":
        raise UserError(
            f"model={path!r} is a run of {run.experiment!r}, not a classifier; give the folder of a "
            "`mlplab run classify` run"
        )
    if not run.checkpoint("best").is_file():
        raise UserError(f"model={path!r} has no checkpoints/best.pt; let its classify run finish, or give another")
    known = ClassifierConfig.__dataclass_fields__
    return run, ClassifierConfig(**{k: v for k, v in run.config.items() if k in known})


def classifier_from_run(path: str, data_dir: str, device: torch.device) -> tuple[Frozen, Dataset]:
    """The classifier of a `classify` run and its dataset (data read from `data_dir` when given)."""
    run, _ = open_classifier_run(path)
    model, ds = model_from_run(run.path, "best", data_dir=data_dir or None, device=device)
    require_images(ds)
    check_outputs(model, ds, f"model={path!r}")
    return Frozen(model, "run", run.path, accuracy(model, ds)), ds


def require_images(ds: Dataset) -> Dataset:
    if not ds.is_image:
        raise UserError(
            f"dreams optimise images, and dataset {ds.name!r} has none; choose an image dataset "
            "(digits, mnist, fashion-mnist, kmnist, cifar10)"
        )
    return ds


def check_outputs(model: nn.Module, ds: Dataset, what: str) -> None:
    try:
        with torch.no_grad():
            out = model.eval()(ds.test.x[:2])
    except RuntimeError:
        out = None
    if out is None or out.shape != (2, ds.num_classes):
        raise UserError(
            f"{what} does not map {ds.name!r} images {tuple(ds.input_shape)} to "
            f"{ds.num_classes} class scores; give a classifier trained on that dataset"
        )


def accuracy(model: nn.Module, ds: Dataset) -> float:
    return float((model.predict(ds.test.x).argmax(1) == ds.test.y).float().mean())


def data_key(ds: Dataset, cfg: TrainConfig) -> dict[str, Any]:
    """A users' source is keyed by its content (its fingerprint), not its path (changed files: a new model), and
    by the keys that shape its splits; a registered dataset by its name alone, as before."""
    if not ds.fingerprint:
        return {}
    return {"dataset": ds.fingerprint} | {k: getattr(cfg, k) for k in SOURCE_KEYS}


def default_classifier(
    cc: ClassifierConfig, ds: Dataset, device: torch.device, cache_dir: str, split_seed: int
) -> Frozen:
    """The MLP of `cc`, trained once on `ds` (split drawn with `split_seed`) and then read from the cache."""
    key = {k: v for k, v in cc.to_dict().items() if k not in NOT_MODEL_KEYS + SOURCE_KEYS} | {
        "split_seed": split_seed,
        "version": CACHE_VERSION,
    }
    key |= data_key(ds, cc)

    def train(run: Run) -> None:
        torch.manual_seed(cc.seed)  # the initial weights
        model, trainer, result = train_classifier(cc, ds, run, torch.Generator().manual_seed(cc.seed), device)
        run.save_metrics(
            {
                "test_accuracy": trainer.evaluate(ds.test)["accuracy"],
                "train_seconds": result.train_seconds,
                "dataset": ds.name,
            }
        )

    run, hit = cached_run(cache_root(cache_dir), "classify", key, cc.to_dict(), train)
    model = load_model(run.checkpoint("best"), device)
    return Frozen(model, "cached" if hit else "trained", run.path, accuracy(model, ds))


def judge_config(data: TrainConfig, epochs: int) -> dict[str, Any]:
    return {
        "dataset": data.dataset,
        "image_size": data.image_size,
        "normalization": data.normalization,
        "val_size": data.val_size,
        "split_seed": data.seed,
        "seed": data.seed + JUDGE_SEED_OFFSET,
        "epochs": epochs,
        "batch_size": 128,
        "lr": 2e-3,
        "channels": [16, 32],
        "hidden": 64,
        "dropout": 0.25,
    }


def cnn_judge(data: TrainConfig, ds: Dataset, epochs: int, device: torch.device, cache_dir: str) -> Frozen:
    """A small CNN trained independently (own seed) on the same training split, cached like the MLPs."""
    jc = judge_config(data, epochs)

    def train(run: Run) -> None:
        torch.manual_seed(jc["seed"])
        model = SmallCNN(
            ds.input_shape[0], ds.input_shape[-1], ds.num_classes, jc["channels"], jc["hidden"], jc["dropout"]
        ).to(device)
        recipe = TrainConfig(
            epochs=epochs, batch_size=jc["batch_size"], lr=jc["lr"], optimizer="adam", schedule="cosine"
        )
        trainer = Trainer.from_config(model, recipe, run=run, generator=torch.Generator().manual_seed(jc["seed"]))
        trainer.fit(ds.train, ds.val)
        run.save_metrics({"test_accuracy": trainer.evaluate(ds.test)["accuracy"], "dataset": ds.name})

    key = jc | {"version": CACHE_VERSION} | data_key(ds, data)
    run, hit = cached_run(cache_root(cache_dir), "dreams-judge", key, jc, train)
    model = load_model(run.checkpoint("best"), device)
    return Frozen(model, "cached" if hit else "trained", run.path, accuracy(model, ds))


def classifier_data(cc: TrainConfig, device: torch.device) -> Dataset:
    """The image dataset a classifier config names."""
    return require_images(dataset_for(cc, device))
