"""`classify`: a configurable MLP classifier on any registered dataset."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.config import param
from mlplab.experiments.base import Context, register_experiment
from mlplab.experiments.common import TrainConfig, load_data, make_augment
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer, make_scheduler


@dataclass
class ClassifyConfig(TrainConfig):
    epochs: int = param(20, "passes over the training set", min=1)
    batch_size: int = param(256, "examples per step", min=1)
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    schedule: Literal["none", "cosine", "step"] = param("cosine", "learning-rate schedule, stepped per epoch")
    hidden: list[int] = param([1024, 1024], "hidden layer sizes, e.g. hidden=[1024,2048,256]",
                              nonempty=True, item_min=1)
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu"] = param("relu", "hidden activation")
    dropout: float = param(0.2, "dropout after every hidden activation", min=0, max=0.95)
    input_dropout: float = param(0.0, "dropout on the input pixels", min=0, max=0.95)
    norm: Literal["none", "batch", "layer"] = param("none", "normalisation after every hidden linear layer")
    augment: list[str] = param([], "batched augmentations: any of crop, flip, affine, e.g. augment=[crop,flip]")


def build_classifier(cfg: ClassifyConfig, num_features: int, num_classes: int) -> MLPClassifier:
    return MLPClassifier(num_features, cfg.hidden, num_classes, activation=cfg.activation, dropout=cfg.dropout,
                         norm=cfg.norm, input_dropout=cfg.input_dropout)


def train_classifier(cfg: ClassifyConfig, ctx: Context, ds=None):
    """Load data, build and train the MLP in `ctx.run`; return (model, dataset, fit result)."""
    ds = ds or load_data(cfg, ctx.device)
    model = build_classifier(cfg, ds.num_features, ds.num_classes).to(ctx.device)
    optimizer = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay,
                               device=ctx.device)
    trainer = Trainer(model, optimizer, run=ctx.run, generator=ctx.generator,
                      scheduler=make_scheduler(optimizer, cfg.schedule, cfg.epochs),
                      augment=make_augment(cfg.augment, ds), monitor="val_accuracy" if len(ds.val) else "train_loss",
                      mode="max" if len(ds.val) else "min")
    result = trainer.fit(ds.train, ds.val, epochs=cfg.epochs, batch_size=cfg.batch_size, resume=ctx.resume)
    return model, ds, trainer, result


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Class probabilities (N, K) in eval mode."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).softmax(1) for i in range(0, len(x), batch_size)])


@register_experiment("classify", ClassifyConfig, smoke=("hidden=[32]", "epochs=2"))
def run(cfg: ClassifyConfig, ctx: Context) -> dict:
    """MLP classifier (hidden sizes, activation, dropout, Batch/LayerNorm) with curves and confusions."""
    model, ds, trainer, result = train_classifier(cfg, ctx)
    test = trainer.evaluate(ds.test)
    probs = predict(model, ds.test.x)
    ctx.run.save_arrays("predictions", y_true=ds.test.y, probs=probs, classes=ds.classes)
    return {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "best_val_accuracy": result.best_value if len(ds.val) else None,
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
        "epochs_run": len(result.history),
        "parameters": sum(p.numel() for p in model.parameters()),
        "dataset": ds.name,
    }
