"""`mlp-protocol`: the practical's Part 1 — an MLP, a seeded train/validation split, validation every few
epochs, the best checkpoint saved, reloaded from disk and tested once at the end."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.config import param
from mlplab.data import dataset_for
from mlplab.data.vision import with_practical_stats
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPClassifier
from mlplab.train import TrainConfig, Trainer, evaluate, load_model
from mlplab.train.config import OptimizerName


@dataclass
class ProtocolConfig(TrainConfig):
    hidden_sizes: list[int] = param(
        [256, 128], "hidden layer sizes of MLP(input_size, num_classes, hidden_sizes)", nonempty=True, item_min=1
    )
    epochs: int = param(10, "passes over the training set", min=1)
    optimizer: OptimizerName = param(
        "scratch-sgdm", "optimizer (as in TrainConfig); default the practical's SGDMomentum"
    )
    lr: float = param(
        0.1, "learning rate (scratch-sgdm at 0.1, beta 0.9 = torch SGD lr 0.01 momentum 0.9)", min=0, min_exclusive=True
    )
    val_size: int = param(
        -1,
        "validation examples taken from train; -1 = the dataset's default (5000: CIFAR-10 45k/5k, MNIST-family 55k/5k)",
        min=-1,
    )
    eval_every: int = param(5, "validate every n epochs (and after the last)", min=1)


@register_experiment("mlp-protocol", ProtocolConfig, smoke=("epochs=2", "eval_every=1", "hidden_sizes=[16]"))
def run(cfg: ProtocolConfig, ctx: Context) -> dict:
    """The practical's train/validate/test protocol: best-on-validation checkpoint reloaded and tested once."""
    ds = with_practical_stats(dataset_for(cfg, ctx.device))
    model = MLPClassifier(ds.num_features, cfg.hidden_sizes, ds.num_classes).to(ctx.device)
    has_val = len(ds.val) > 0
    # the model's monitor (val accuracy, max) picks the best epoch; without a validation split, train loss
    trainer = Trainer.from_config(model, cfg, run=ctx.run, generator=ctx.generator, eval_every=cfg.eval_every)
    fit = trainer.fit(ds.train, ds.val, resume=ctx.resume)
    best = load_model(ctx.run.checkpoint("best")).to(ctx.device)  # from disk, as a user would
    test = evaluate(best, ds.test)
    same = all(torch.equal(a, b) for a, b in zip(best.state_dict().values(), model.state_dict().values(), strict=True))
    return {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "best_val_accuracy": fit.best_value if has_val else None,
        "best_epoch": fit.best_epoch,
        "validated_epochs": [r["epoch"] for r in fit.history if "val_accuracy" in r],
        "reloaded_equals_best": same,
        "train_size": len(ds.train),
        "val_size": len(ds.val),
        "test_size": len(ds.test),
        "dataset": ds.name,
        "train_seconds": fit.train_seconds,
    }
