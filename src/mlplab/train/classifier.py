"""Classifiers that experiments train or borrow: the configurable MLP classifier (classify, dreams), a quick
in-run classifier that labels images, and the classifier of a finished `classify` run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.analysis.judge import Judge
from mlplab.config import param
from mlplab.data import Dataset
from mlplab.data.augment import augment_from_names
from mlplab.errors import UserError
from mlplab.nn import MLPClassifier
from mlplab.runs import Run
from mlplab.train.checkpoint import dataset_args, open_run_model
from mlplab.train.config import TrainConfig
from mlplab.train.several_models import fit_named
from mlplab.train.trainer import FitResult, Trainer


@dataclass
class ClassifierConfig(TrainConfig):
    """The MLP classifier and how it trains."""

    epochs: int = param(20, "passes over the training set", min=1)
    batch_size: int = param(256, "examples per step", min=1)
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    schedule: Literal["none", "cosine", "step", "onecycle"] = param(
        "cosine", "learning-rate schedule, stepped per epoch"
    )
    hidden: list[int] = param(
        [1024, 1024], "hidden layer sizes, e.g. hidden=[1024,2048,256]", nonempty=True, item_min=1, item_max=16384
    )
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu"] = param("relu", "hidden activation")
    dropout: float = param(0.2, "dropout after every hidden activation", min=0, max=0.95)
    input_dropout: float = param(0.0, "dropout on the input pixels", min=0, max=0.95)
    norm: Literal["none", "batch", "layer"] = param("none", "normalisation after every hidden linear layer")
    augment: list[str] = param(
        [],
        "batched augmentations, in order: any of crop (pad 1/8 of the side, crop back), flip (left-right), affine "
        "(rotate <= 10 degrees, shift <= 10%, scale 0.9-1.1), elastic (Simard et al. 2003: alpha 34, sigma 4 "
        "pixels at 28x28), erase (random erasing, Zhong et al. 2017: half the images get a box of 2-40% of the "
        "image replaced by noise), e.g. augment=[affine,elastic]",
    )
    label_smoothing: float = param(0.0, "label smoothing of the cross-entropy (0 = off)", min=0, max=0.5)
    max_norm: float = param(
        0.0, "max-norm: each unit's incoming weights cut to this length after every step (0 = off)", min=0
    )
    ema: float = param(
        0.0,
        "exponential moving average of the weights, updated every step with this decay (e.g. 0.999): the "
        "average is validated, kept and tested (0 = off)",
        min=0,
        max=0.99999,
    )


def build_classifier(cfg: ClassifierConfig, num_features: int, num_classes: int) -> MLPClassifier:
    return MLPClassifier(
        num_features,
        cfg.hidden,
        num_classes,
        activation=cfg.activation,
        dropout=cfg.dropout,
        norm=cfg.norm,
        input_dropout=cfg.input_dropout,
        label_smoothing=cfg.label_smoothing,
    )


def train_classifier(
    cfg: ClassifierConfig,
    ds: Dataset,
    run: Run,
    generator: torch.Generator,
    device: torch.device,
    *,
    model: MLPClassifier | None = None,
    resume: bool = False,
) -> tuple[MLPClassifier, Trainer, FitResult]:
    """Build (unless given) and train the MLP of `cfg` in `run`; return (model, trainer, result)."""
    model = model or build_classifier(cfg, ds.num_features, ds.num_classes).to(device)
    trainer = Trainer.from_config(model, cfg, run=run, generator=generator, augment=augment_from_names(cfg.augment, ds))
    result = trainer.fit(ds.train, ds.val, resume=resume)
    return model, trainer, result


def train_image_classifier(
    cfg: TrainConfig,
    ds: Dataset,
    run: Run,
    generator: torch.Generator,
    hidden: list[int],
    epochs: int,
    *,
    resume: bool = False,
) -> Judge:
    """A quick MLP classifier on the run's images, trained as the run's model "classifier"."""
    model = MLPClassifier(ds.num_features, hidden, ds.num_classes, dropout=0.1).to(ds.train.x.device)
    fit_named(model, ds, cfg, run, generator, "classifier", resume=resume, epochs=epochs)
    return Judge(
        model,
        ds.normalization,
        f"an MLP {ds.num_features}-{'-'.join(map(str, hidden))}-"
        f"{ds.num_classes} trained in this run for {epochs} epochs",
    )


def classifier_of_run(path_text: str, ds: Dataset, data_dir: str, device: torch.device) -> Judge:
    """The classifier of a `classify` run on the same data as `ds`, with the normalisation it was trained with."""
    from mlplab.data import load_dataset

    model, conf = open_run_model(path_text, "classifier", ("MLPClassifier",), "a `classify` run")
    if conf.get("experiment") != "classify":
        raise UserError(
            f"config key 'classifier': {path_text!r} is a run of {conf.get('experiment')!r}, not "
            "'classify'; give the folder of a `mlplab run classify` run"
        )
    if (
        conf.get("dataset") != ds.name
        or model.spec["in_features"] != ds.num_features
        or model.spec["num_classes"] != ds.num_classes
    ):
        raise UserError(
            f"config key 'classifier': {path_text!r} classifies {conf.get('dataset')!r} "
            f"({model.spec['in_features']} inputs, {model.spec['num_classes']} classes), not "
            f"{ds.name!r} ({ds.num_features} inputs, {ds.num_classes} classes); train the classifier "
            "on the same dataset and image_size"
        )
    theirs = load_dataset(**dataset_args(conf, data_dir), device="cpu", download=False)
    return Judge(model.to(device), theirs.normalization, f"the classifier of the run {path_text}")
