"""Several models in one run folder: each trained by the one Trainer, its rows tagged with "model".

Every epoch row goes to the run's metrics.jsonl as {"model": name, ...}; when a model is done a last row
{"model": name, "final": true, ...its test numbers} marks it finished, so a resume can skip it
(`finished_models`). Nothing here trains differently from a single-model run.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mlplab.data import Dataset
from mlplab.data.augment import Augment
from mlplab.runs import Run
from mlplab.train import FitResult, Trainer, make_optimizer, make_scheduler


def fit_model(model: nn.Module, ds: Dataset, cfg: Any, *, run: Run, name: str, generator: torch.Generator,
              augment: Augment | None = None) -> tuple[Trainer, FitResult]:
    """Train `model` on ds.train with cfg's optimizer, lr, weight_decay, schedule, epochs and batch_size.

    Validation accuracy is monitored where there is a validation split; the weights at the end of training
    are kept (the Trainer writes no checkpoints for a model of a multi-model run).
    """
    device = next(model.parameters()).device
    optimizer = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay,
                               device=device)
    has_val = len(ds.val) > 0
    trainer = Trainer(model, optimizer, generator=generator, augment=augment,
                      scheduler=make_scheduler(optimizer, cfg.schedule, cfg.epochs),
                      callbacks=[lambda _, row: run.log({"model": name, **row})],
                      monitor="val_accuracy" if has_val else "train_loss", mode="max" if has_val else "min")
    return trainer, trainer.fit(ds.train, ds.val, epochs=cfg.epochs, batch_size=cfg.batch_size)


def mark_finished(run: Run, name: str, numbers: dict[str, Any]) -> None:
    """The last row of a model: it is done, with its final numbers."""
    run.log({"model": name, "final": True, **numbers})


def finished_models(run: Run) -> dict[str, dict[str, Any]]:
    """name -> final row, for every model of the run that finished."""
    return {r["model"]: r for r in run.history() if r.get("final") and "model" in r}


def model_rows(history: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The per-epoch rows of one model (its final row excluded)."""
    return [r for r in history if r.get("model") == name and not r.get("final")]
