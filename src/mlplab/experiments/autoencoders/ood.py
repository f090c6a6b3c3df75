"""`ae-ood`: is an image out of distribution? An AE trained on one dataset reconstructs others badly.

Sources: the training dataset's test images (in distribution), other image datasets' test images
(Fashion-MNIST, KMNIST, MNIST: whichever is present in the data folder and is not the training dataset) and
uniform noise. The score is the reconstruction error alone; AUROC tells how well it ranks out-of-distribution
images above in-distribution ones (1 = perfectly, 0.5 = chance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.analysis.reconstruction import per_image_mse
from mlplab.config import param
from mlplab.data import DATASETS, Dataset, load_dataset
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPAutoencoder
from mlplab.train import Trainer
from mlplab.train.autoencoders import AEImageConfig, check_sizes, unit_images
from mlplab.train.checkpoint import dataset_args, open_run_model

AE_CLASSES = ("MLPAutoencoder", "ConvAutoencoder")

AUTO_SOURCES = ("fashion-mnist", "kmnist", "mnist")
FALSE_ALARMS = 0.05  # share of in-distribution images flagged at the reported threshold


@dataclass
class OODConfig(AEImageConfig):
    encoder: list[int] = param([256], "encoder hidden sizes of the AE trained here", item_min=1)
    code: int = param(32, "code size of the AE trained here (1 .. number of pixels)", min=1, max=784)
    decoder: list[int] = param([256], "decoder hidden sizes of the AE trained here", item_min=1)
    model: str = param(
        "",
        "an AE from another run instead: its folder (checkpoints/best.pt) or a checkpoint file "
        "in its checkpoints/, e.g. RUN/checkpoints/conv_unpool.pt of ae-conv; empty = train here",
    )
    ood: list[str] = param(
        [],
        "out-of-distribution sources: image datasets and/or noise (uniform pixels); "
        "[] = fashion-mnist, kmnist, mnist where present (not the training set), and noise",
    )
    max_images: int = param(10000, "at most this many test images per source", min=10)
    show: int = param(8, "images per source in the reconstruction figure", min=1)


def source_key(name: str) -> str:
    """Metric suffix of a source: fashion-mnist -> fashion."""
    return {"fashion-mnist": "fashion"}.get(name, name.replace("-", "_"))


def auroc(in_errors: torch.Tensor, out_errors: torch.Tensor) -> float:
    """AUROC of 'out of distribution' scored by reconstruction error."""
    truth = torch.cat([torch.zeros(len(in_errors)), torch.ones(len(out_errors))]).numpy()
    from sklearn.metrics import roc_auc_score  # here: scikit-learn costs a second to import

    return float(roc_auc_score(truth, torch.cat([in_errors, out_errors]).cpu().numpy()))


def flagged(in_errors: torch.Tensor, out_errors: torch.Tensor, false_alarms: float = FALSE_ALARMS) -> float:
    """Share of OOD images above the error that only `false_alarms` of in-distribution images exceed."""
    threshold = torch.quantile(in_errors.double().cpu(), 1 - false_alarms)
    return float((out_errors.double().cpu() > threshold).double().mean())


@register_experiment("ae-ood", OODConfig, smoke=("epochs=2", "max_images=200"))
def run(cfg: OODConfig, ctx: Context) -> dict:
    """AE reconstruction error as an out-of-distribution score: MNIST vs Fashion-MNIST, KMNIST and noise."""
    if cfg.model:
        model, ds = autoencoder_of_run(cfg, ctx)
    else:
        ds = unit_images(cfg, ctx.device)
        check_sizes("code", cfg.code, ds)
        model = MLPAutoencoder(ds.num_features, cfg.encoder, cfg.code, cfg.decoder).to(ctx.device)
    check_source_names(cfg, ds.name)
    sources, skipped = gather_sources(cfg, ctx, ds)  # before training: a missing named source fails fast
    if not cfg.model:
        Trainer.from_config(model, cfg, run=ctx.run, generator=ctx.generator).fit(ds.train, ds.val, resume=ctx.resume)
    errors = {name: per_image_mse(model, x) for name, x in sources.items()}
    (in_name, in_err), *others = errors.items()
    metrics: dict = {
        "in_distribution": in_name,
        "mean_error_in_distribution": float(in_err.mean()),
        "skipped_sources": [s for s, _ in skipped],
        "skipped_because": dict(skipped),
    }
    if cfg.model:
        metrics["model_class"] = model.spec["class"]
    rows = [
        {
            "source": in_name,
            "role": "in distribution",
            "images": len(in_err),
            "mean_error": float(in_err.mean()),
            "median_error": float(in_err.median()),
            "auroc": "",
            "flagged_at_5pct_false_alarms": FALSE_ALARMS,
        }
    ]
    for name, err in others:
        key = source_key(name)
        metrics[f"auroc_{key}"] = auroc(in_err, err)
        metrics[f"mean_error_{key}"] = float(err.mean())
        metrics[f"flagged_{key}"] = flagged(in_err, err)
        rows.append(
            {
                "source": name,
                "role": "out of distribution",
                "images": len(err),
                "mean_error": float(err.mean()),
                "median_error": float(err.median()),
                "auroc": metrics[f"auroc_{key}"],
                "flagged_at_5pct_false_alarms": metrics[f"flagged_{key}"],
            }
        )
    ctx.run.save_table("sources", rows)
    save_arrays(cfg, ctx, model, sources, errors)
    return metrics


def autoencoder_of_run(cfg: OODConfig, ctx: Context) -> tuple[torch.nn.Module, Dataset]:
    """The AE of another run and that run's dataset (its in-distribution), in [0, 1]."""
    model, conf = open_run_model(cfg.model, "model", AE_CLASSES, "an autoencoder run (ae-ood, ae-conv, ...)")
    if conf.get("normalization") != "unit":
        raise UserError(
            f"config key 'model': {cfg.model!r} was trained with normalization="
            f"{conf.get('normalization')!r}; give an autoencoder trained on [0, 1] pixels (unit)"
        )
    ds = load_dataset(**(dataset_args(conf, cfg.data_dir) | {"normalization": "unit"}), device=ctx.device)
    spec = model.spec
    fits = (
        spec.get("in_features") == ds.num_features
        if spec["class"] == "MLPAutoencoder"
        else (spec.get("in_channels"), spec.get("side"), spec.get("side")) == tuple(ds.input_shape)
    )
    if not fits:
        raise UserError(
            f"config key 'model': the model of {cfg.model!r} does not take {ds.name!r} images of shape "
            f"{tuple(ds.input_shape)}; give a run whose config matches its checkpoint"
        )
    return model.to(ctx.device), ds


def check_source_names(cfg: OODConfig, training: str) -> None:
    """Before any training: every named source is noise or a dataset other than the training one."""
    for name in cfg.ood:
        if name == training:
            raise UserError(
                f"config key 'ood': {name!r} is the training dataset, not out of distribution; "
                "name other datasets or noise"
            )
        if name != "noise" and name not in DATASETS:
            raise UserError(
                f"config key 'ood': {name!r} is neither noise nor a dataset; choose from noise, "
                f"{', '.join(DATASETS.names())}"
            )


def gather_sources(cfg: OODConfig, ctx: Context, ds: Dataset) -> tuple[dict[str, torch.Tensor], list]:
    """In-distribution test images first, then each OOD source resized to the same shape; skipped ones with why."""
    n = min(cfg.max_images, len(ds.test))
    sources = {ds.name: ds.test.x[:n]}
    explicit = bool(cfg.ood)
    names = list(dict.fromkeys(cfg.ood)) if explicit else [s for s in AUTO_SOURCES if s != ds.name] + ["noise"]
    skipped = []
    for name in names:
        if name == "noise":
            sources["noise"] = torch.rand((n, *ds.input_shape), generator=ctx.generator).to(ds.test.x.device)
            continue
        try:
            other = load_dataset(
                name,
                data_dir=cfg.data_dir or None,
                device=ds.test.x.device,
                seed=cfg.seed,
                normalization="unit",
                image_size=ds.input_shape[-1],
                download=explicit,
            )
        except UserError as exc:
            if explicit:
                raise
            skipped.append((name, str(exc)))
            continue
        if other.input_shape != ds.input_shape:
            raise UserError(
                f"config key 'ood': {name!r} has images of shape {other.input_shape}, the model takes "
                f"{ds.input_shape}; choose a dataset with the same number of channels"
            )
        sources[name] = other.test.x[:n]
    if len(sources) < 2:
        raise UserError("no out-of-distribution source is left; add noise to ood=")
    return sources, skipped


def save_arrays(cfg: OODConfig, ctx: Context, model, sources: dict, errors: dict) -> None:
    arrays = {"sources": list(sources)}
    for i, (name, x) in enumerate(sources.items()):
        shown = x[: cfg.show]
        arrays.update(
            {
                f"errors_{i}": errors[name],
                f"shown_{i}": shown,
                f"shown_recon_{i}": model.reconstruct(shown),
                f"shown_err_{i}": errors[name][: cfg.show],
            }
        )
    ctx.run.save_arrays("ood", **arrays)
