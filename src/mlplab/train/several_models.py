"""Several models trained one after another in one run (ae-pca, ae-denoising, ...), each under its name.

Each model writes checkpoints/NAME-last.pt every epoch and, once trained, its final weights as
checkpoints/NAME.pt; its metrics.jsonl rows carry "model": NAME. On resume a finished model (NAME.pt
exists) is not trained again: its weights are loaded and the RNG states are set to where its training
left them, so the models after it draw the same numbers as in an uninterrupted run; the unfinished model
continues from NAME-last.pt.
"""
from __future__ import annotations

import torch
from torch import nn

from mlplab.data import Dataset
from mlplab.data.augment import Augment
from mlplab.runs import Run
from mlplab.train.checkpoint import read_checkpoint, save_model
from mlplab.train.config import TrainConfig
from mlplab.train.trainer import FitResult, Trainer, restore_rng


def fit_named(model: nn.Module, ds: Dataset, cfg: TrainConfig, run: Run, generator: torch.Generator, name: str, *,
              resume: bool = False, epochs: int | None = None, augment: Augment | None = None) -> FitResult:
    """Train `model` as the model NAME of `run` (or, resuming, skip it when finished); save checkpoints/NAME.pt.

    cfg gives optimizer, lr, weight_decay, schedule, batch_size (and epochs unless `epochs`); the model's
    `monitor` names the validation number that picks its best epoch; `augment` is applied to training batches."""
    if resume and run.checkpoint(name).is_file() and run.checkpoint(f"{name}-last").is_file():
        return load_finished(model, run, generator, name)
    trainer = Trainer.from_config(model, cfg, run=run, generator=generator, name=name, epochs=epochs,
                                  augment=augment)
    result = trainer.fit(ds.train, ds.val, resume=resume)
    save_model(model, run.checkpoint(name))
    return result


def load_finished(model: nn.Module, run: Run, generator: torch.Generator, name: str) -> FitResult:
    """The trained weights of NAME, its fit summary, and the RNG states as its training left them."""
    model.load_state_dict(read_checkpoint(run.checkpoint(name))["model"])
    state = read_checkpoint(run.checkpoint(f"{name}-last"))
    restore_rng(state["rng"], generator)
    return FitResult(state["history"], state["best_epoch"], state["best_value"], state["train_seconds"])
