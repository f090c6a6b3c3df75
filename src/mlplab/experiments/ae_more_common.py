"""Pieces shared by ae-manifold, ae-conv and ae-ood: [0, 1] data, training several models in one run,
per-image reconstruction errors, and models loaded from other runs (a classifier as judge, an AE)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from mlplab.data import Dataset, Normalization, load_dataset
from mlplab.errors import UserError
from mlplab.experiments.ae_common import reconstruct, train_autoencoder
from mlplab.experiments.base import Context
from mlplab.experiments.common import TrainConfig, load_data
from mlplab.nn import MLPClassifier, build_model
from mlplab.nn import autoencoders as _mlp_ae  # noqa: F401  (registers MLPAutoencoder for build_model)
from mlplab.nn import conv_autoencoders as _conv_ae  # noqa: F401  (registers ConvAutoencoder)
from mlplab.runs import Run
from mlplab.train import FitResult, read_checkpoint

AE_CLASSES = ("MLPAutoencoder", "ConvAutoencoder")


def load_images(cfg: TrainConfig, ctx: Context) -> Dataset:
    """The dataset in [0, 1]; UserError for datasets without images."""
    ds = load_data(cfg, ctx.device, normalization="unit")
    if not ds.is_image:
        raise UserError(f"dataset {ds.name!r} has no images; autoencoders here need an image dataset "
                        "(digits, mnist, fashion-mnist, kmnist)")
    return ds


def fit(model: nn.Module, cfg: TrainConfig, ctx: Context, ds: Dataset, *, name: str = "",
        checkpointed: bool = False, epochs: int | None = None) -> FitResult:
    """Train through the one Trainer. The checkpointed model owns the run's checkpoints (and resume); the
    others train with run=None and log their epochs to metrics.jsonl tagged with `model: name`."""
    return train_autoencoder(model, ds, cfg, ctx.run if checkpointed else None, ctx.generator, name=name,
                             log_run=None if checkpointed else ctx.run, epochs=epochs,
                             resume=ctx.resume and checkpointed)


@torch.no_grad()
def per_image_mse(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error per pixel of each image's reconstruction (N,)."""
    return (reconstruct(model, x) - x).pow(2).flatten(1).mean(1)


# ---- models from other runs -------------------------------------------------------------------
def open_checkpoint(path_text: str, key: str, classes: tuple[str, ...], what: str) -> tuple[nn.Module, dict]:
    """A run folder (its checkpoints/best.pt) or a .pt file in a run's checkpoints/: (model, run config)."""
    path = Path(path_text).expanduser()
    if path.is_file() and path.suffix == ".pt":
        ckpt, folder = path, path.parent.parent
    else:
        ckpt, folder = path / "checkpoints" / "best.pt", path
    if not (folder / "config.yaml").is_file():
        raise UserError(f"config key {key!r}: {path_text!r} is not a run folder (no config.yaml); give the folder "
                        f"of {what}")
    if not ckpt.is_file():
        raise UserError(f"config key {key!r}: {path_text!r} has no {ckpt.relative_to(folder)}; give the folder "
                        f"of a finished run of {what}")
    state = read_checkpoint(ckpt)
    spec = state.get("spec") or {}
    if spec.get("class") not in classes:
        raise UserError(f"config key {key!r}: {path_text!r} holds a {spec.get('class')!r} model, not "
                        f"{' or '.join(classes)}; give the folder of {what}")
    model = build_model(spec)
    model.load_state_dict(state["model"])
    return model, Run(folder).config


@dataclass
class Judge:
    """A classifier that labels images given as pixels in [0, 1]."""

    model: nn.Module
    normalization: Normalization
    source: str

    @torch.no_grad()
    def probs(self, pixels: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Class probabilities (N, K)."""
        self.model.eval()
        x = self.normalization.apply(pixels)
        return torch.cat([self.model(x[i:i + batch_size]).softmax(1) for i in range(0, len(x), batch_size)])


def train_judge(cfg: TrainConfig, ctx: Context, ds: Dataset, hidden: list[int], epochs: int) -> Judge:
    """A quick MLP classifier on the same [0, 1] images, trained in this run (no checkpoint of its own)."""
    model = MLPClassifier(ds.num_features, hidden, ds.num_classes, dropout=0.1).to(ctx.device)
    fit(model, cfg, ctx, ds, name="classifier", epochs=epochs)
    return Judge(model, ds.normalization, f"an MLP {ds.num_features}-{'-'.join(map(str, hidden))}-"
                                          f"{ds.num_classes} trained in this run for {epochs} epochs")


def load_judge(path_text: str, cfg: TrainConfig, ds: Dataset, device: torch.device) -> Judge:
    """The classifier of a `classify` run, with the input normalisation it was trained with."""
    model, conf = open_checkpoint(path_text, "classifier", ("MLPClassifier",), "a `classify` run")
    if conf.get("experiment") != "classify":
        raise UserError(f"config key 'classifier': {path_text!r} is a run of {conf.get('experiment')!r}, not "
                        "'classify'; give the folder of a `mlplab run classify` run")
    if conf.get("dataset") != ds.name or model.spec["in_features"] != ds.num_features \
            or model.spec["num_classes"] != ds.num_classes:
        raise UserError(f"config key 'classifier': {path_text!r} classifies {conf.get('dataset')!r} "
                        f"({model.spec['in_features']} inputs, {model.spec['num_classes']} classes), not "
                        f"{ds.name!r} ({ds.num_features} inputs, {ds.num_classes} classes); train the classifier "
                        "on the same dataset and image_size")
    theirs = load_dataset(conf["dataset"], data_dir=conf.get("data_dir") or cfg.data_dir or None, device="cpu",
                          seed=int(conf.get("seed", 0)), val_size=None if int(conf.get("val_size", -1)) < 0
                          else int(conf["val_size"]), normalization=conf.get("normalization", "standard"),
                          image_size=int(conf.get("image_size", 0)), download=False)
    return Judge(model.to(device), theirs.normalization, f"the classifier of the run {path_text}")
