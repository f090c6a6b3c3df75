"""`gan`: one chosen class from an MLP generator that mirrors its discriminator; quality measured by a judge."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from mlplab.analysis import gan_quality as gq
from mlplab.analysis.dreaming import freeze
from mlplab.config import BaseConfig, param
from mlplab.data import Dataset, Split
from mlplab.errors import RunFailed, UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn.gan import GAN
from mlplab.runs import Run, atomic_write_bytes
from mlplab.train import Trainer, read_checkpoint
from mlplab.train import cached_models as cm
from mlplab.train.config import TrainConfig

GRID = 64  # fixed-noise samples in every frame of the animation
NEIGHBOURS = 8  # samples shown beside their nearest training image
SMALL_IMAGE = 256  # pixels; up to this size (the 8x8 digits) the automatic length is the short one
# automatic budgets by image size: the 8x8 digits stay a few CPU seconds (`mlplab tour` runs every experiment)
AUTO_STEPS = {"small": 400, "large": 12000}
EVALUATIONS = {"small": 15, "large": 30}  # evaluations over a run when eval_every is null
LARGE_DATASET = 10_000  # training images; a smaller set needs more judge epochs


# preset=best: the MLP GAN that scores highest with the judge (decent fraction and recall) within 10 minutes of
# training on a 2-core CPU, for MNIST digits 2 and 4; the generator still mirrors the discriminator. Chosen on digit 2,
# seed 0: D 784-512-256-1 reached recall 0.83-0.86 only after 24,000-36,000 steps (0.831 at 36,000); D
# 784-1024-512-1 reaches 0.85-0.87 from 14,000 steps on (0.857 at 16,000), so the wider pair trains 16,000 steps.
# A linear lr decay over the second half (lr_decay=linear) raised the decent fraction (0.994), lowered recall (0.820).
BEST = {
    "d_hidden": [1024, 512],
    "latent": 100,
    "schedule": "alternating",
    "n": 16000,
    "lr": 2e-4,
    "lr_d": None,
    "lr_g": None,
    "batch_size": 64,
    "g_ema": 0.999,
    "r1": 0.0,
    "spectral_norm": False,
    "instance_noise": 0.0,
}


@dataclass
class GanConfig(BaseConfig):
    PRESETS: ClassVar[dict] = {"best": BEST}

    preset: Literal["none", "best"] = param(
        "none",
        "a named recipe that sets several keys at once (keys given beside it win): best = the highest-scoring "
        "MLP GAN within 10 minutes on 2 CPU cores (see BEST in this module), written out in config.yaml",
    )
    digit: int | str = param(
        2,
        "the class to generate: its index or its name (digit=1 or digit=Trouser with dataset=fashion-mnist make "
        "trousers); a number is always the index, so a class named by a number is chosen by its index",
        min=0,
    )
    d_hidden: list[int] = param(
        [512, 256], "discriminator hidden sizes; the generator mirrors them reversed", nonempty=True, item_min=1
    )
    latent: int = param(100, "size of the Gaussian noise the generator starts from", min=1)
    schedule: Literal["alternating", "lab"] = param(
        "alternating",
        "alternating: one D and one G step per batch, Adam(0.5, 0.999); lab: n_d D steps on "
        "fresh real+fake batches, then n_g G steps, plain Adam",
    )
    n: int | None = param(
        None, "training steps (outer iterations); null (default) = automatic: 400 on 8x8 images, 12000 on 28x28", min=1
    )
    n_d: int = param(1, "schedule=lab: discriminator steps per outer iteration", min=1)
    n_g: int = param(1, "schedule=lab: generator steps per outer iteration", min=1)
    lr: float = param(2e-4, "Adam learning rate of both networks", min=0, min_exclusive=True)
    lr_d: float | None = param(
        None, "the discriminator's own learning rate (two time-scale updates, Heusel et al. 2017); null = lr", min=0
    )
    lr_g: float | None = param(None, "the generator's own learning rate; null = lr", min=0)
    lr_decay: Literal["none", "linear"] = param(
        "none",
        "linear: both learning rates fall linearly to 0 over the second half of the run (as pix2pix and CycleGAN "
        "train), stepped at each evaluation; none: constant",
    )
    g_ema: float = param(
        0.0,
        "moving average of the generator's weights, updated after every G step with this decay (e.g. 0.999); "
        "the average is what samples and is judged (0 = off)",
        min=0,
        max=0.99999,
    )
    r1: float = param(
        0.0, "R1 penalty weight gamma: gamma/2 * E||grad D(real)||^2 added to D's loss (Mescheder et al. 2018)", min=0
    )
    spectral_norm: bool = param(False, "spectral normalisation of every discriminator layer (Miyato et al. 2018)")
    instance_noise: float = param(
        0.0,
        "Gaussian noise of this standard deviation (in normalised pixel units) on D's real and fake inputs, "
        "falling linearly to 0 over the run (0 = off)",
        min=0,
    )
    batch_size: int = param(64, "real images per discriminator step (and as many fakes)", min=1)
    g_dropout: float = param(0.0, "dropout after every hidden layer of the generator", min=0, max=0.95)
    eval_every: int | None = param(
        None, "steps between evaluations; null (default) = about 15 (8x8 images) or 30 over the run", min=1
    )
    samples: int = param(1000, "generated images the judge scores at every evaluation", min=10)
    on_collapse: Literal["none", "restart", "stop"] = param(
        "none",
        "on mode collapse: only report it, restart from the last healthy checkpoint with lr halved, "
        "or stop with exit code 1",
    )
    max_restarts: int = param(2, "on_collapse=restart: restarts at most", min=0)
    collapse_recall: float = param(0.25, "collapse when recall falls below this", min=0, max=1)
    collapse_coverage: float = param(0.25, "collapse when coverage falls below this", min=0, max=1)
    judge_epochs: int | None = param(
        None,
        "training epochs of the judge (a small CNN, cached); null (default) = 3 on large datasets, 15 on small ones",
        min=1,
    )
    cache_dir: str = param("", "cache of the judge; empty = $MLPLAB_CACHE, else models/ beside the data folder")
    normalization: Literal["minus_one_one", "unit"] = param(
        "minus_one_one", "pixel range the GAN works in: [-1, 1] (tanh output) or [0, 1] (sigmoid output)"
    )
    image_size: int = param(0, "resize images to this side; 0 = native", min=0)
    tensorboard: bool = param(False, "also write per-evaluation scalars for TensorBoard into RUN/tensorboard/")

    def steps(self, pixels: int) -> int:
        return self.n or AUTO_STEPS[size(pixels)]

    def every(self, pixels: int) -> int:
        return self.eval_every or max(1, math.ceil(self.steps(pixels) / EVALUATIONS[size(pixels)]))

    def rule(self) -> gq.CollapseRule:
        return gq.CollapseRule(self.collapse_recall, self.collapse_coverage)

    def data_config(self) -> TrainConfig:
        """The data keys of the judge and of the GAN's real images: same split, same normalisation."""
        return TrainConfig(**self.data_keys(), normalization=self.normalization, image_size=self.image_size)

    def judge_epochs_for(self, train_images: int) -> int:
        return self.judge_epochs or (3 if train_images >= LARGE_DATASET else 15)


def size(pixels: int) -> str:
    return "small" if pixels <= SMALL_IMAGE else "large"


@register_experiment(
    "gan",
    GanConfig,
    smoke=("n=40", "eval_every=20", "samples=60", "judge_epochs=1", "d_hidden=[32]", "cache_dir=model-cache"),
)
def run(cfg: GanConfig, ctx: Context) -> dict:
    """GAN for one chosen class: mirrored MLP generator, judged (decent fraction, FD, PRDC), collapse caught."""
    data = cfg.data_config()
    ds = cm.classifier_data(data, ctx.device)
    digit = ds.class_index("digit", cfg.digit)
    real = Split(ds.train.x[ds.train.y == digit], ds.train.y[ds.train.y == digit])
    test = ds.test.x[ds.test.y == digit]
    if len(test) < 4 * gq.K:
        raise UserError(
            f"class {digit} ({ds.classes[digit]}) of {ds.name!r} has {len(test)} test images; the quality metrics "
            f"need at least {4 * gq.K}; choose another class or dataset"
        )
    # the judge: the dreams' small CNN, trained once on the whole training split and cached (never the discriminator)
    judge = cm.cnn_judge(data, ds, cfg.judge_epochs_for(len(ds.train)), ctx.device, cfg.cache_dir)
    freeze(judge.model)
    # watched while training: as many of the class's training images as it has test images (the metrics depend on
    # the sample size); the test images score the finished generator once, at the end (final_metrics)
    ref = gq.Reference.of(judge.model, watched_images(real.x, len(test), cfg.seed), digit)
    torch.manual_seed(cfg.seed)  # the initial weights
    model = GAN(
        list(ds.input_shape),
        cfg.d_hidden,
        cfg.latent,
        cfg.normalization,
        cfg.g_dropout,
        cfg.schedule,
        cfg.n_d,
        cfg.n_g,
        g_ema=cfg.g_ema,
        r1=cfg.r1,
        spectral_norm=cfg.spectral_norm,
        instance_noise=cfg.instance_noise,
        noise_steps=cfg.steps(ds.num_features),
    ).to(ctx.device)
    noise = torch.Generator().manual_seed(cfg.seed + 1)  # the fixed evaluation noise, apart from training's
    watch = Watch(
        cfg,
        ctx.run,
        ds,
        model,
        judge.model,
        ref,
        z_grid=model.noise(GRID, noise),
        z_eval=model.noise(cfg.samples, noise),
    )
    steps, every = cfg.steps(ds.num_features), cfg.every(ds.num_features)
    if not ctx.resume:
        ctx.run.save_metrics(
            {f"initial_{k}": v for k, v in watch.evaluate(0)[0].items()}
            | {f"watched_real_{k}": v for k, v in ref.real_scores().items()}
        )
    # the model's own optimizers and step; `schedule` here is the GAN's, not an lr schedule, so no from_config
    optimizers = model.configure_optimizers(cfg)
    trainer = Trainer(
        model,
        optimizers=optimizers,
        # after restarts (restarts.json), the decay runs from the halved lrs
        schedulers=lr_decay(optimizers, cfg.lr_decay, math.ceil(steps / every), scale=0.5 ** len(watch.restarts)),
        run=ctx.run,
        generator=ctx.generator,
        callbacks=[watch.after_evaluation],
        monitor="recall",
        mode="max",
        restore_best=False,
        steps_per_epoch=every,
        total_steps=steps,
        epoch_metrics=watch.epoch_metrics,
        progress=False,
    )
    train_seconds, stopped = train(trainer, watch, real, cfg, steps, every, ctx.resume)
    metrics = final_metrics(cfg, ctx.run, ds, real, test, watch, judge, train_seconds, steps)
    if stopped:
        from mlplab.report import build_report

        ctx.run.save_metrics(metrics | {"stopped": True})
        build_report(ctx.run)
        raise RunFailed(
            f"mode collapse at step {watch.collapsed_at} (recall or coverage fell below its threshold); "
            f"stopped ({stopped}); the report shows the grid of that moment: "
            f"{ctx.run.path / 'report.html'}"
        )
    return metrics


def train(
    trainer: Trainer, watch: Watch, real: Split, cfg: GanConfig, steps: int, every: int, resume: bool
) -> tuple[float, str]:
    """Fit; on a collapse restart from the last healthy checkpoint with lr halved, or say why to stop ("" = done)."""
    epochs, seconds = math.ceil(steps / every), 0.0
    if resume:
        watch.resumed(read_checkpoint(watch.run.checkpoint("last"))["history"])
    while True:
        result = trainer.fit(real, None, epochs=epochs, batch_size=real_batch(cfg), resume=resume)
        seconds = result.train_seconds
        if watch.collapsed_at is None or cfg.on_collapse == "none":
            return seconds, ""
        if cfg.on_collapse == "stop":
            return seconds, "on_collapse=stop"
        if len(watch.restarts) >= cfg.max_restarts:
            return seconds, f"collapsed again after max_restarts={cfg.max_restarts} restarts"
        watch.restart()
        for s in trainer.schedulers.values():  # lr_decay: the schedule goes on from the halved lrs
            s.base_lrs = [lr / 2 for lr in s.base_lrs]
        trainer.stop_requested, resume = False, True


def lr_decay(
    optimizers: dict[str, torch.optim.Optimizer], kind: str, intervals: int, scale: float = 1.0
) -> dict[str, Any]:
    """The schedulers of `lr_decay`, stepped once per evaluation interval (the Trainer's epoch): linear keeps each
    lr (times `scale`) for the first half of the `intervals`, then lowers it in equal steps to 0 at the end."""
    if kind == "none":
        return {}
    half = intervals // 2

    def factor(e: int) -> float:
        return 1.0 if e <= half else max(0.0, (intervals - e) / (intervals - half))

    schedulers = {k: torch.optim.lr_scheduler.LambdaLR(opt, factor) for k, opt in optimizers.items()}
    for s in schedulers.values():  # the schedule is placed from base_lrs on every (re)start of the fit
        s.base_lrs = [lr * scale for lr in s.base_lrs]
    return schedulers


def watched_images(images: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """`n` of the training `images` (all where there are fewer), drawn once per seed: the reference of the metrics
    watched during training (curves, collapse, restarts), so that no choice made while training sees a test image."""
    if len(images) <= n:
        return images
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed + 2))[:n]
    return images[pick.sort().values.to(images.device)]


def real_batch(cfg: GanConfig) -> int:
    """Real images one training step takes: n_d fresh batches for the lab schedule, one batch otherwise."""
    return cfg.batch_size * (cfg.n_d if cfg.schedule == "lab" else 1)


class Watch:
    """Evaluates the generator every k steps (metrics, the fixed-noise frame), flags collapse, keeps healthy states."""

    def __init__(
        self,
        cfg: GanConfig,
        run: Run,
        ds: Dataset,
        model: GAN,
        judge: torch.nn.Module,
        ref: gq.Reference,
        z_grid: torch.Tensor,
        z_eval: torch.Tensor,
    ):
        self.cfg, self.run, self.ds, self.model, self.judge, self.ref = cfg, run, ds, model, judge, ref
        self.z_grid, self.z_eval = z_grid, z_eval
        self.rows: list[dict[str, Any]] = []  # the evaluations since step 0 (of the current attempt)
        self.collapsed_at: int | None = None
        f = run.path / "restarts.json"
        self.restarts: list[dict[str, Any]] = json.loads(f.read_text()) if f.is_file() else []
        self.steps = cfg.steps(ds.num_features)
        self.every = cfg.every(ds.num_features)

    # ---- evaluation ---------------------------------------------------------------------------
    def evaluate(self, step: int) -> tuple[dict[str, float], np.ndarray]:
        """Score the fixed evaluation samples and save the fixed-noise frame of this step."""
        pixels = self.ds.to_pixels(self.model.sample(self.z_grid)).clamp(0, 1)
        self.run.save_arrays(f"frames/step_{step:07d}", pixels=(pixels * 255).round().to(torch.uint8), step=step)
        return gq.evaluate(self.judge, self.ref, self.model.sample(self.z_eval))

    def epoch_metrics(self, trainer: Trainer, row: dict[str, Any]) -> dict[str, Any]:
        step = min(row["epoch"] * self.every, self.steps)
        scores, hist = self.evaluate(step)
        out = {"step": step, **scores, "judge_labels": hist.tolist()}  # the lr in use is in the row: lr_d, lr_g
        self.rows.append(out)
        out["collapsed"] = gq.collapse_flags(self.rows, self.cfg.rule())[-1]
        out["healthy"] = self.cfg.rule().healthy(out)
        return out

    def after_evaluation(self, trainer: Trainer, row: dict[str, Any]) -> None:
        """Keep the last healthy checkpoint; on the first collapse, note the step (and stop unless told not to)."""
        if row["healthy"]:
            atomic_write_bytes(self.run.checkpoint("healthy"), self.run.checkpoint("last").read_bytes())
        elif row["collapsed"] and self.collapsed_at is None:
            self.collapsed_at = row["step"]
            if self.cfg.on_collapse != "none":
                trainer.stop_requested = True

    # ---- resume and restart -------------------------------------------------------------------
    def resumed(self, history: list[dict[str, Any]]) -> None:
        """Pick up the evaluations of a checkpoint; drop frames written after it."""
        self.rows = [
            {k: r[k] for k in ("step", "precision", "recall", "coverage", "collapsed", "healthy")} for r in history
        ]
        self.drop_frames_after(self.rows[-1]["step"] if self.rows else 0)
        firsts = [r["step"] for r in self.rows if r.get("collapsed")]
        self.collapsed_at = firsts[0] if firsts else None
        if self.rows and self.rows[-1]["healthy"]:
            atomic_write_bytes(self.run.checkpoint("healthy"), self.run.checkpoint("last").read_bytes())

    def drop_frames_after(self, step: int) -> None:
        for f in (self.run.path / "arrays" / "frames").glob("step_*.npz"):
            if int(f.stem.split("_")[1]) > step:
                f.unlink()

    def restart(self) -> None:
        """Make the last healthy checkpoint, with every learning rate halved, the one to resume from."""
        path = self.run.checkpoint("healthy")
        if not path.is_file():
            raise RunFailed(
                f"mode collapse at step {self.collapsed_at} before any healthy evaluation; nothing to "
                "restart from; lower lr or change d_hidden"
            )
        state = read_checkpoint(path)
        for opt_state in state["optimizers"].values():  # config.yaml keeps the run's lr; rows show lr_d, lr_g
            for group in opt_state["param_groups"]:
                group["lr"] /= 2
        from_step = state["history"][-1]["step"]
        self.restarts.append(
            {
                "collapsed_at": self.collapsed_at,
                "restarted_from": from_step,
                "lr": state["optimizers"]["d"]["param_groups"][0]["lr"],
            }
        )
        self.run.write_json("restarts.json", self.restarts)
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(self.run.checkpoint("last"), buf.getvalue())
        self.rows = [r for r in self.rows if r["step"] <= from_step]
        self.drop_frames_after(from_step)
        self.collapsed_at = None


def final_metrics(
    cfg: GanConfig,
    run: Run,
    ds: Dataset,
    real: Split,
    test: torch.Tensor,
    watch: Watch,
    judge,
    train_seconds: float,
    steps: int,
) -> dict[str, Any]:
    """The final samples scored against the test images (their one use), memorisation, nearest training neighbours,
    collapse and restarts; watched_* keep the last evaluation against the watched training images."""
    model = watch.model
    samples = model.sample(watch.z_eval)
    test_ref = gq.Reference.of(judge.model, test, watch.ref.cls)  # the test images' one use
    final, hist = gq.evaluate(judge.model, test_ref, samples)
    pix = ds.to_pixels(samples).clamp(0, 1).cpu().numpy()
    train_pix = ds.to_pixels(real.x).clamp(0, 1).cpu().numpy()
    memorised = gq.memorised_share(pix, train_pix, ds.to_pixels(test).clamp(0, 1).cpu().numpy())
    flat = train_pix.reshape(len(train_pix), -1)
    shown = pix[:NEIGHBOURS].reshape(NEIGHBOURS if len(pix) >= NEIGHBOURS else len(pix), -1)
    d = ((shown[:, None, :] - flat[None, :, :]) ** 2).sum(-1)  # (S, N_train)
    nearest = d.argmin(1)
    run.save_arrays(
        "neighbours",
        samples=pix[:NEIGHBOURS],
        neighbours=train_pix[nearest],
        distances=np.sqrt(d[np.arange(len(nearest)), nearest]),
    )
    last = run.history[-1]
    keys = ("decent_fraction", "fd", "fd_ratio", "precision", "recall", "density", "coverage")
    collapsed = gq.first_collapse(watch.rows, cfg.rule())
    digit = ds.class_index("digit", cfg.digit)  # the index that `digit` (an index or a name) resolved to
    return {
        "dataset": ds.name,
        "digit": digit,
        "class_name": ds.classes[digit],
        "schedule": cfg.schedule,
        "steps": steps,
        "train_images": len(real),
        "test_images": len(test),
        **{k: final[k] for k in keys},
        **{f"real_{k}": v for k, v in test_ref.real_scores().items()},
        **{f"watched_{k}": last[k] for k in keys},
        "memorised_share": memorised,
        "judge_labels": dict(zip(ds.classes, hist.tolist(), strict=True)),
        "d_real": last["train_d_real"],
        "d_fake": last["train_d_fake"],
        "collapsed_at": collapsed if collapsed is not None else watch.collapsed_at,
        "healthy_at": next((r["step"] for r in watch.rows if r["healthy"]), None),
        "collapse_recall": cfg.collapse_recall,
        "collapse_coverage": cfg.collapse_coverage,
        "restarts": len(watch.restarts),
        "final_lr_d": last["lr_d"],
        "final_lr_g": last["lr_g"],
        "train_seconds": train_seconds,
        "judge_source": judge.source,
        "judge_test_accuracy": judge.test_accuracy,
        "judge_path": str(judge.path),
        "generator_sizes": model.generator.sizes,
        "discriminator_sizes": model.discriminator.sizes,
    }
