"""`one-vs-rest`: a binary classifier for one class against all others, and what its errors were taken for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.analysis.metrics import BinaryCounts
from mlplab.config import param
from mlplab.data import Dataset, dataset_for
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import OneVsRestMLP
from mlplab.runs import Run
from mlplab.train import TrainConfig, Trainer


@dataclass
class OneVsRestConfig(TrainConfig):
    digit: int | str = param(
        2,
        "the class told apart from all others: its index (digit=2) or its name (digit=Trouser); a number is "
        "always the index, so a class named by a number is chosen by its index",
        min=0,
    )
    hidden: list[int] = param([256], "hidden layer sizes", nonempty=True, item_min=1, item_max=16384)
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu"] = param(
        "leaky_relu", "hidden activation"
    )
    dropout: float = param(0.0, "dropout after every hidden activation", min=0, max=0.95)
    epochs: int = param(10, "passes over the training set (for each of the two networks)", min=1)
    lr: float = param(2e-3, "learning rate", min=0, min_exclusive=True)
    schedule: Literal["none", "cosine", "step"] = param("cosine", "learning-rate schedule, stepped per epoch")


@register_experiment("one-vs-rest", OneVsRestConfig, smoke=("epochs=2",))
def run(cfg: OneVsRestConfig, ctx: Context) -> dict:
    """Binary sigmoid classifier for `digit` vs the rest; its false positives and misses by class."""
    ds = dataset_for(cfg, ctx.device)
    digit = ds.class_index("digit", cfg.digit)
    binary = fit(
        OneVsRestMLP(ds.num_features, cfg.hidden, [digit], cfg.activation, cfg.dropout),
        cfg,
        ctx,
        ds,
        checkpointed=True,
    )
    # every class against the rest, in one network: which class a missed image looked like instead
    every = fit(
        OneVsRestMLP(ds.num_features, cfg.hidden, list(range(ds.num_classes)), cfg.activation, cfg.dropout),
        cfg,
        ctx,
        ds,
        checkpointed=False,
    )
    y = ds.test.y.cpu()
    p_digit = binary.predict(ds.test.x)[:, 0].cpu()  # (N,)
    p_every = every.predict(ds.test.x).cpu()  # (N, K)
    ctx.run.save_arrays("predictions", y_true=y, p_digit=p_digit, p_every=p_every, classes=ds.classes, digit=digit)
    return {"digit": digit, "class_name": ds.classes[digit]} | error_analysis(ctx.run, ds, digit, y, p_digit, p_every)


def fit(model: OneVsRestMLP, cfg: OneVsRestConfig, ctx: Context, ds: Dataset, checkpointed: bool) -> OneVsRestMLP:
    """Train through the one Trainer; only the main (binary) network writes checkpoints and curves."""
    model = model.to(ctx.device)
    trainer = Trainer.from_config(model, cfg, run=ctx.run if checkpointed else None, generator=ctx.generator)
    trainer.fit(ds.train, ds.val, resume=ctx.resume and checkpointed)
    return model


def taken_for(p_every: torch.Tensor, digit: int) -> torch.Tensor:
    """The most confident class other than `digit`, per example (N,)."""
    others = p_every.clone()
    others[:, digit] = -1.0
    return others.argmax(1)


def error_analysis(
    run: Run, ds: Dataset, digit: int, y: torch.Tensor, p_digit: torch.Tensor, p_every: torch.Tensor
) -> dict:
    """Accuracy, precision, recall, F1; false positives by true class; misses by the class they were taken for."""
    is_digit, said_digit = y == digit, p_digit > 0.5
    counts = BinaryCounts.of(is_digit, said_digit)
    missed_as = taken_for(p_every, digit)[is_digit & ~said_digit]
    others = [c for c in range(ds.num_classes) if c != digit]
    false_pos = {ds.classes[c]: int((said_digit & (y == c)).sum()) for c in others}
    false_neg = {ds.classes[c]: int((missed_as == c).sum()) for c in others}
    name = ds.classes[digit]
    run.save_table(
        "confusion_counts",
        [
            {
                "digit": name,
                "true_positives": counts.tp,
                "false_positives": counts.fp,
                "true_negatives": counts.tn,
                "false_negatives": counts.fn,
                "every_class_net_accuracy": float((p_every.argmax(1) == y).double().mean()),
            }
        ],
    )
    run.save_table(
        "errors_by_class",
        [
            {
                "class": ds.classes[c],
                "test_images": int((y == c).sum()),
                "taken_for_" + name: false_pos[ds.classes[c]],
                f"missed_{name}_taken_for_it": false_neg[ds.classes[c]],
            }
            for c in others
        ],
    )
    return {
        "accuracy": counts.accuracy,
        "precision": counts.precision,
        "recall": counts.recall,
        "f1": counts.f1,
        "false_positives_by_class": false_pos,
        "false_negatives_by_class": false_neg,
    }
