"""`dreams`: what a frozen classifier would see: images optimised towards classes, mixtures and penalties."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlplab.analysis.dreaming import fingerprint, freeze, unchanged
from mlplab.config import BaseConfig, param
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.experiments.dreams import tasks
from mlplab.experiments.dreams.tasks import parse_hybrid
from mlplab.train import cached_models as cm
from mlplab.train import save_model
from mlplab.train.classifier import ClassifierConfig

TASKS = ("dreams", "hybrids", "l2", "robust")


@dataclass
class DreamsConfig(BaseConfig):
    task: Literal["all", "dreams", "hybrids", "l2", "robust"] = param(
        "all",
        "dreams: one image per class; hybrids: mixtures of classes; l2: the λ sweep; robust: regularised "
        "dreams from an ensemble, scored by a CNN judge; all: every task",
    )
    model: str = param(
        "",
        "folder of a `classify` run to dream with (its dataset is used); empty = the default MLP "
        "(trained once, cached)",
    )
    cache_dir: str = param(
        "", "cache of trained default models; empty = $MLPLAB_CACHE, else models/ beside the default data folder"
    )
    # the default classifier (ignored with model=)
    hidden: list[int] = param(
        [1024, 2048, 256], "hidden sizes of the default MLP", nonempty=True, item_min=1, item_max=16384
    )
    dropout: float = param(
        0.0, "dropout after each hidden layer of the default MLP (none after the logits)", min=0, max=0.95
    )
    epochs: int = param(5, "training epochs of the default MLP (and of each ensemble member)", min=1)
    lr: float = param(1e-3, "learning rate of the default MLP", min=0, min_exclusive=True)
    batch_size: int = param(128, "batch size of the default MLP", min=1)
    image_size: int = param(0, "resize images to this side (e.g. 28 for digits); 0 = native", min=0, max=256)
    # task 1: dreams
    targets: list[int] = param([], "classes to dream of, e.g. targets=[3,8]; empty = every class", item_min=0)
    steps: int = param(500, "most optimisation steps of a dream", min=1)
    dream_lr: float = param(0.05, "Adam learning rate on the pixels", min=0, min_exclusive=True)
    confidence: float = param(
        0.99, "stop when every dream reaches this target probability", min=0, min_exclusive=True, max=1
    )
    lambda_l2: float = param(0.0, "weight of the penalty lambda_l2 * mean(x²) in task dreams", min=0)
    noise_mean: float = param(0.5, "mean of the Gaussian noise the dreams start from (pixels in [0, 1])", min=0, max=1)
    noise_std: float = param(0.2, "standard deviation of the starting noise", min=0)
    frame_every: int = param(5, "keep a frame of the dreams every this many steps (for the animation)", min=1)
    # task 2: hybrids
    hybrid: str = param("", "a target mixture class:weight,..., e.g. hybrid=3:0.5,5:0.5 (weights ≥ 0, sum 1)")
    hybrid_tolerance: float = param(
        0.02, "a hybrid counts as reached within this absolute probability", min=0, min_exclusive=True, max=1
    )
    # task 3: the L2 sweep
    l2_range: list[float] = param([0.001, 10.0], "smallest and largest λ of the geometric sweep", nonempty=True)
    l2_count: int = param(9, "number of λ values in the sweep", min=2)
    # going further: robust dreams and the judge
    ensemble: int = param(3, "classifiers whose mean log-probability the robust dreams optimise", min=1)
    jitter: int = param(3, "robust dreams: random shift of up to this many pixels each step", min=0)
    rotate: float = param(15.0, "robust dreams: random rotation of up to ± this many degrees each step", min=0, max=180)
    zoom: float = param(0.1, "robust dreams: random scaling by 1 ± this each step", min=0, max=0.5)
    tv: float = param(1.0, "robust dreams: weight of the total-variation penalty", min=0)
    robust_l2: float = param(1.0, "robust dreams: weight of the L2 penalty", min=0)
    blur_sigma: float = param(
        0.0, "robust dreams: Gaussian blur of the pixels every blur_every steps (0 = none)", min=0
    )
    blur_every: int = param(4, "robust dreams: blur every this many steps", min=1)
    robust_steps: int = param(400, "steps of a robust dream", min=1)
    judge_epochs: int = param(3, "training epochs of the CNN judge", min=1)

    def check(self) -> None:
        if len(self.l2_range) != 2 or not 0 < self.l2_range[0] < self.l2_range[1]:
            raise UserError(
                f"config key 'l2_range': {self.l2_range} must be two numbers 0 < low < high, e.g. l2_range=[0.001,10]"
            )
        if self.hybrid:
            parse_hybrid(self.hybrid)

    def classifier(self) -> ClassifierConfig:
        return ClassifierConfig(
            **self.data_keys(),
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            hidden=list(self.hidden),
            dropout=self.dropout,
            image_size=self.image_size,
            schedule="cosine",
        )


def check_classes(cfg: DreamsConfig, num_classes: int, dataset: str) -> None:
    asked = [("targets", c) for c in cfg.targets] + [
        ("hybrid", c) for c in (parse_hybrid(cfg.hybrid) if cfg.hybrid else {})
    ]
    for key, c in asked:
        if not 0 <= c < num_classes:
            raise UserError(
                f"config key {key!r}: class {c} is not a class of the {dataset!r} classifier; "
                f"choose 0..{num_classes - 1}"
            )


@register_experiment(
    "dreams",
    DreamsConfig,
    smoke=(
        "hidden=[32]",
        "epochs=1",
        "steps=40",
        "robust_steps=30",
        "ensemble=2",
        "judge_epochs=1",
        "l2_count=3",
        "cache_dir=model-cache",
    ),
)
def run(cfg: DreamsConfig, ctx: Context) -> dict:
    """Dreams of a frozen classifier (task=dreams|hybrids|l2|robust|all), judged by an independent CNN."""
    if cfg.model:
        data = cm.open_classifier_run(cfg.model)[1]
        main, ds = cm.classifier_from_run(cfg.model, cfg.data_dir, ctx.device)
        check_classes(cfg, ds.num_classes, ds.name)
    else:
        data = cfg.classifier()
        ds = cm.classifier_data(data, ctx.device)
        check_classes(cfg, ds.num_classes, ds.name)  # before any training
        main = cm.default_classifier(data, ds, ctx.device, cfg.cache_dir, cfg.seed)
    freeze(main.model)
    save_model(main.model, ctx.run.checkpoint("classifier"))
    wanted = TASKS if cfg.task == "all" else (cfg.task,)
    members, judge = [main.model], None
    if "robust" in wanted:
        for k in range(1, cfg.ensemble):
            extra = cfg.classifier()
            extra.dataset, extra.image_size, extra.seed = data.dataset, data.image_size, data.seed + k
            extra.normalization, extra.val_size = data.normalization, data.val_size
            members.append(freeze(cm.default_classifier(extra, ds, ctx.device, cfg.cache_dir, data.seed).model))
        judge = cm.cnn_judge(data, ds, cfg.judge_epochs, ctx.device, cfg.cache_dir)
        freeze(judge.model)
    models = members + ([judge.model] if judge else [])
    before = fingerprint(models)
    setup = tasks.Setup(
        cfg, ctx.run, ctx.device, ctx.generator, ds, main.model, members, judge.model if judge else None
    )
    metrics: dict = {
        "dataset": ds.name,
        "model_source": main.source,
        "model_path": str(main.path),
        "classifier_test_accuracy": main.test_accuracy,
        "tasks": list(wanted),
        "normalization_mean": list(ds.normalization.mean),
        "normalization_std": list(ds.normalization.std),
    }
    if judge:
        metrics |= {
            "judge_source": judge.source,
            "judge_path": str(judge.path),
            "judge_test_accuracy": judge.test_accuracy,
            "ensemble_size": len(members),
        }
    plain = None
    for task in wanted:
        result = getattr(tasks, task)(setup, plain=plain) if task == "robust" else getattr(tasks, task)(setup)
        if task == "dreams":
            plain = result.pop("_pixels")
        metrics |= result
    metrics["weights_unchanged"] = unchanged(models, before)
    metrics["trainable_parameters"] = sum(p.numel() for m in models for p in m.parameters() if p.requires_grad)
    return metrics
