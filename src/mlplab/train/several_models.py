"""Several models trained one after another in one run (ae-pca, ae-denoising, ...), each under its name.

Each model writes checkpoints/NAME-last.pt every epoch and, once trained, its final weights as
checkpoints/NAME.pt; its metrics.jsonl rows carry "model": NAME. On resume a finished model (NAME.pt
exists and its last checkpoint reached `epochs`) is not trained again: its weights are loaded and the RNG
states are set to where its training left them, so the models after it draw the same numbers as in an
uninterrupted run; the first unfinished model continues from NAME-last.pt (a resume that raises `epochs`
continues a finished one the same way). Every model after one that trained on in this process starts
again from scratch, since its starting RNG states (weights, batch order) follow from the training before it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from mlplab.data import Dataset
from mlplab.data.augment import Augment
from mlplab.runs import Run
from mlplab.train.checkpoint import CHECKPOINT_FORMAT, read_checkpoint, save_model, write_checkpoint
from mlplab.train.config import TrainConfig
from mlplab.train.trainer import FitResult, Trainer, restore_rng


def fit_named(
    model: nn.Module,
    ds: Dataset,
    cfg: TrainConfig,
    run: Run,
    generator: torch.Generator,
    name: str,
    *,
    resume: bool = False,
    epochs: int | None = None,
    augment: Augment | None = None,
) -> FitResult:
    """Train `model` as the model NAME of `run` (or, resuming, skip it when finished); save checkpoints/NAME.pt.

    cfg gives optimizer, lr, weight_decay, schedule, batch_size (and epochs unless `epochs`); the model's
    `monitor` names the validation number that picks its best epoch; `augment` is applied to training batches."""
    epochs = epochs or cfg.epochs
    if resume and run in _TRAINED:
        # an earlier model of this run trained on in this process: the RNG states this model started from
        # are new, so its old checkpoints belong to another trajectory; it starts again
        for which in (name, f"{name}-last", f"{name}-best"):
            run.checkpoint(which).unlink(missing_ok=True)
    elif resume and run.checkpoint(name).is_file() and finished_epochs(run, name) >= epochs:
        return load_finished(model, run, generator, name)
    trainer = Trainer.from_config(model, cfg, run=run, generator=generator, name=name, epochs=epochs, augment=augment)
    _TRAINED.add(run)
    result = trainer.fit(ds.train, ds.val, resume=resume)
    save_model(model, run.checkpoint(name))
    return result


_TRAINED: weakref.WeakSet[Run] = weakref.WeakSet()  # runs in which this process trained a named model


def finished_epochs(run: Run, name: str) -> int:
    """Epochs the model NAME has finished (0 without its last checkpoint)."""
    last = run.checkpoint(f"{name}-last")
    return read_checkpoint(last)["epoch"] if last.is_file() else 0


def load_finished(model: nn.Module, run: Run, generator: torch.Generator, name: str) -> FitResult:
    """The trained weights of NAME, its fit summary, and the RNG states as its training left them."""
    model.load_state_dict(read_checkpoint(run.checkpoint(name))["model"])
    state = read_checkpoint(run.checkpoint(f"{name}-last"))
    restore_rng(state["rng"], generator)
    return FitResult(state["history"], state["best_epoch"], state["best_value"], state["train_seconds"])


class Pieces:
    """The finished pieces of a run that trains no torch model (gradcheck's cases, its twin run), kept in
    checkpoints/NAME-last.pt after each piece, so that a resume skips them. A piece's value is what torch.load
    reads back with weights_only=True: numbers, text, lists, dicts, tensors."""

    def __init__(self, run: Run, name: str, *, resume: bool = False):
        self.path = run.checkpoint(f"{name}-last")
        self.done: dict[str, Any] = read_checkpoint(self.path)["pieces"] if resume and self.path.is_file() else {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The value of piece `key`: kept from an earlier attempt, or computed now and kept."""
        if key not in self.done:
            self.done[key] = compute()
            write_checkpoint(self.path, {"format": CHECKPOINT_FORMAT, "pieces": self.done})
        return self.done[key]
