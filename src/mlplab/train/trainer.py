"""One trainer for every model: `model.loss(batch) -> {"loss": ...}`, or a model-defined training step.
Every other 0-dim value the loss returns is averaged over the epoch's examples, and so is a `PerExample` value,
computed once at the epoch's end.

fit / evaluate, an optional LR schedule, evaluation each epoch (or every `eval_every` epochs), best and last
checkpoints written atomically with the RNG states, resume, and a NaN/Inf guard that stops and keeps the last good
checkpoint. Same seed on CPU, same numbers. A model with several optimizers (a GAN) defines
`configure_optimizers(cfg)` and `training_step(batch, optimizers, step, generator)` and trains through the
same loop, checkpoints and resume; `steps_per_epoch` (with `total_steps`) makes an "epoch" that many steps drawn
from fresh shuffled passes, and `epoch_metrics(trainer, row)` adds numbers to each epoch's row before it is
logged, monitored and checkpointed (the GAN's judge scores; `monitor` may name one of them, with or without a
validation split). A named model (one of several trained in one run) writes
checkpoints/NAME-last.pt and rows tagged "model": NAME.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import torch
from torch import nn

from mlplab.data.augment import Augment
from mlplab.data.batches import iterate_batches, num_batches
from mlplab.data.core import Split
from mlplab.device import resolve_precision
from mlplab.errors import RunFailed, UserError
from mlplab.main_metric import goal
from mlplab.nn.per_example import PerExample
from mlplab.progress import bar
from mlplab.progress import enabled as progress_enabled
from mlplab.runs import Run
from mlplab.train.checkpoint import (
    CHECKPOINT_FORMAT,
    evaluated_weights,
    model_spec,
    read_checkpoint,
    spec_text,
    write_checkpoint,
)
from mlplab.train.config import TrainConfig
from mlplab.train.factories import make_optimizer, make_scheduler, place_schedule


class Callback(Protocol):
    def __call__(self, trainer: Trainer, row: dict[str, Any]) -> None: ...


_WATCHERS: contextvars.ContextVar[tuple[Callable, ...]] = contextvars.ContextVar("trainer_watchers", default=())


@contextlib.contextmanager
def watching(callback: Callable):
    """Every Trainer made inside the block also calls `callback(trainer, row)` after each epoch (how a tuning
    trial reports its validation metric and is pruned, without a hand on the experiment's code)."""
    token = _WATCHERS.set((*_WATCHERS.get(), callback))
    try:
        yield
    finally:
        _WATCHERS.reset(token)


@dataclass
class FitResult:
    history: list[dict[str, Any]]
    best_epoch: int
    best_value: float | None  # None: no epoch was run
    train_seconds: float
    stopped_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _is_better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


ONE = ""  # the key of a model's one optimizer (and schedule): logged as `lr`; several are logged as `lr_KEY`


def defines_step(model: nn.Module) -> bool:
    """True for a model that brings its own optimizers and training step (the GAN)."""
    return callable(getattr(model, "training_step", None)) and callable(getattr(model, "configure_optimizers", None))


class Trainer:
    """Train `model` with `optimizer` (or the model's own optimizers); checkpoints and rows go to `run`.

    One optimizer is a dict of one (`optimizers == {ONE: optimizer}`): the ordinary step, the model-defined
    step, the lrs in the rows, the schedules and the checkpoint all go through `optimizers` / `schedulers`.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        *,
        run: Run | None = None,
        generator: torch.Generator | None = None,
        scheduler=None,
        augment: Augment | None = None,
        callbacks: list[Callable] = (),
        monitor: str | None = None,
        mode: str | None = None,
        restore_best: bool | None = None,
        progress: bool | None = None,
        eval_batch_size: int = 4096,
        nan_check_every: int | None = None,
        name: str | None = None,
        optimizers: dict[str, torch.optim.Optimizer] | None = None,
        schedulers: dict[str, Any] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        eval_every: int = 1,
        steps_per_epoch: int | None = None,
        total_steps: int | None = None,
        epoch_metrics: Callable | None = None,
        precision: torch.dtype | None = None,
        print_rows: bool = True,
        ema: float = 0.0,
        max_norm: float = 0.0,
    ):
        if (optimizer is None) == (optimizers is None):
            raise ValueError("give either one optimizer or the model's optimizers")
        self.model = model
        self.own_step = defines_step(model)  # the model steps its optimizers itself (the GAN)
        if optimizers is None:
            optimizers, schedulers = {ONE: optimizer}, {ONE: scheduler} if scheduler is not None else {}
        if not self.own_step and len(optimizers) != 1:
            raise ValueError("a model without its own training_step trains with exactly one optimizer")
        self.optimizers: dict[str, torch.optim.Optimizer] = optimizers
        self.schedulers: dict[str, Any] = schedulers or {}
        self.run = run
        self.generator = generator or torch.Generator().manual_seed(0)
        self.augment = augment
        self.callbacks = [*callbacks, *_WATCHERS.get()]
        watched, watched_mode = getattr(model, "monitor", ("loss", "min"))
        # a monitor named by the caller without a direction gets the shared rule's (mlplab.main_metric.goal)
        self.monitor = monitor or f"val_{watched}"
        self.mode = mode or (monitor and goal(monitor)) or watched_mode
        self.name = name
        # a named model keeps its last epoch: its final weights are what the run reports and saves
        self.restore_best = (name is None) if restore_best is None else restore_best
        self.progress = progress_enabled() if progress is None else progress
        self.eval_batch_size = eval_batch_size
        self.device = next(model.parameters()).device
        self.nan_check_every = nan_check_every or 25  # the epoch-end check below still guards every checkpoint
        self.epochs, self.batch_size = epochs, batch_size
        self.eval_every = max(1, eval_every)  # validate every n epochs (and after the last one)
        self.step = 0  # optimisation steps so far (passed to a model-defined training step)
        self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps
        self.epoch_metrics = epoch_metrics  # (trainer, row) -> more numbers for the row, before it is logged
        self.stop_requested = False
        self._writer = None
        # None: fp32; torch.bfloat16: the forward passes of training run under autocast (matmuls in bf16, the
        # weights, their gradients and the optimizer state stay fp32); evaluation stays fp32
        self.precision = precision
        self.print_rows = print_rows  # each epoch's row as a line on stderr
        # max-norm (Srivastava et al. 2014): after every step, each unit's incoming weight vector is cut to this
        # length, in every linear layer; 0 = off
        self.max_norm = max_norm
        self._linears = [m for m in model.modules() if isinstance(m, nn.Linear)] if max_norm else []
        # an exponential moving average of the weights (and buffers), updated after every step: what is validated,
        # kept as the best and left in the model at the end; 0 = off
        self.ema = None
        self._fitting = False
        if ema:
            if self.own_step:
                raise ValueError("ema averages the weights of one optimizer's model; not of a model-defined step")
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            self.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema), use_buffers=True)

    @classmethod
    def from_config(
        cls,
        model: nn.Module,
        cfg: TrainConfig,
        *,
        run: Run | None = None,
        generator: torch.Generator | None = None,
        augment: Augment | None = None,
        callbacks: list[Callable] = (),
        name: str | None = None,
        epochs: int | None = None,
        **kwargs,
    ) -> Trainer:
        """A Trainer with the optimizer and schedule of `cfg` (or the model's own optimizers), monitoring what
        the model's `monitor` names."""
        device = next(model.parameters()).device
        epochs = epochs or cfg.epochs
        common = dict(
            run=run,
            generator=generator,
            augment=augment,
            callbacks=callbacks,
            name=name,
            epochs=epochs,
            batch_size=cfg.batch_size,
            precision=resolve_precision(cfg.precision, device),
            ema=getattr(cfg, "ema", 0.0),
            max_norm=getattr(cfg, "max_norm", 0.0),
            **kwargs,
        )
        if defines_step(model):
            optimizers = model.configure_optimizers(cfg)
        else:
            optimizers = {
                ONE: make_optimizer(
                    model.parameters(), cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay, device=device
                )
            }
        schedulers = {
            k: s for k, opt in optimizers.items() if (s := make_scheduler(opt, cfg.schedule, epochs)) is not None
        }
        return cls(model, optimizers=optimizers, schedulers=schedulers, **common)

    # ---- evaluation -------------------------------------------------------------------------
    def evaluate(self, split: Split, batch_size: int | None = None) -> dict[str, float]:
        """Mean of every scalar the model's loss returns, over `split`, in eval mode (with the averaged weights
        during training when `ema` is on; after `fit` the model holds them)."""
        return evaluate(self.evaluated_model, split, batch_size or self.eval_batch_size)

    @property
    def evaluated_model(self) -> nn.Module:
        """The model whose weights are validated: during `fit`, the moving average when `ema` is on; else (and
        after `fit`, which leaves the kept weights in the model) the model."""
        return self.ema.module if self.ema is not None and self._fitting else self.model

    # ---- training ---------------------------------------------------------------------------
    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], epoch: int, step: int) -> dict[str, torch.Tensor]:
        """One optimisation step through `optimizers`: the model's own step, or backward on its "loss"."""
        check = step % self.nan_check_every == 0
        if self.own_step:
            with self._autocast():
                out = self.model.training_step(batch, self.optimizers, self.step, self.generator)
            if check:  # after its step: the model steps its optimizers itself
                scalars = {k: float(v) for k, v in out.items() if isinstance(v, torch.Tensor) and v.dim() == 0}
                if not all(math.isfinite(v) for v in scalars.values()):
                    raise RunFailed(
                        f"training values became {scalars} at epoch {epoch}, step {step}; training "
                        f"stopped and {self._kept()}; lower lr or check the inputs"
                    )
        else:
            with self._autocast():
                out = self.model.loss(batch)
            loss = out["loss"]
            if check and not torch.isfinite(loss):  # before the update: a NaN loss never reaches the weights
                raise RunFailed(
                    f"loss became {loss.item()} at epoch {epoch}, step {step}; training stopped "
                    f"and {self._kept()}; lower lr or check the inputs"
                )
            (optimizer,) = self.optimizers.values()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if self._linears:
                with torch.no_grad():
                    for layer in self._linears:
                        layer.weight.renorm_(2, 0, self.max_norm)
            if self.ema is not None:
                self.ema.update_parameters(self.model)
        self.step += 1
        return out

    def _autocast(self):
        if self.precision is None:
            return contextlib.nullcontext()  # not a disabled autocast: entering one costs a few microseconds a step
        return torch.autocast(self.device.type, dtype=self.precision)

    def _epoch_batches(self, split: Split, batch_size: int):
        """One shuffled pass; or, with `steps_per_epoch`, that many batches (no more than `total_steps` leaves) from
        fresh shuffled passes, restarted every epoch so that a resume from an epoch's checkpoint is exact."""
        if self.steps_per_epoch is None:
            batches = iterate_batches(split.x, split.y, batch_size, shuffle=True, generator=self.generator)
            return batches, num_batches(len(split), batch_size)
        steps = self.steps_per_epoch
        if self.total_steps is not None:
            steps = max(0, min(steps, self.total_steps - self.step))

        def endless():
            while True:
                yield from iterate_batches(
                    split.x,
                    split.y,
                    batch_size,
                    shuffle=True,
                    generator=self.generator,
                    drop_last=len(split) >= batch_size,
                )

        return islice(endless(), steps), steps

    def train_epoch(self, split: Split, batch_size: int, epoch: int) -> dict[str, float]:
        self.model.train()
        batches, total = self._epoch_batches(split, batch_size)
        if self.progress:
            batches = bar(batches, total=total, desc=f"epoch {epoch}", leave=False, file=sys.stderr)
        values: dict[str, list[torch.Tensor]] = {}
        sizes: dict[str, list[int]] = {}  # per key: a model-defined step may return a value on some steps only
        later: dict[str, list[PerExample]] = {}
        for step, (xb, yb) in enumerate(batches):
            if self.augment is not None:
                xb = self.augment(xb, self.generator)
            out = self._step((xb, yb), epoch, step)
            # keep the per-step values and reduce them once at the end: no extra kernels per step
            n = len(xb)
            for k, v in out.items():
                if isinstance(v, PerExample):
                    later.setdefault(k, []).append(v)
                elif v.dim() == 0:
                    values.setdefault(k, []).append(v.detach() if v.requires_grad else v)
                    sizes.setdefault(k, []).append(n)
        means = {}
        for k, vs in values.items():
            weights = torch.tensor(sizes[k], dtype=torch.float64)
            means[k] = float((torch.stack(vs).double().cpu() * weights).sum()) / sum(sizes[k])
        for k, parts in later.items():
            means[k] = PerExample.epoch_mean(parts)
        if not all(math.isfinite(v) for v in means.values()):
            raise RunFailed(
                f"training metrics became {means} in epoch {epoch}; training stopped and "
                f"{self._kept()}; lower lr or check the inputs"
            )
        return means

    def _kept(self) -> str:
        """What a failed run leaves: the truth about the checkpoint, for the one-line message."""
        if self.run is not None and self.checkpoint_path("last").is_file():
            return "the last good checkpoint was kept"
        return "there is no checkpoint (no epoch finished)"

    def _learning_rates(self) -> dict[str, float]:
        return {"lr" if k == ONE else f"lr_{k}": opt.param_groups[0]["lr"] for k, opt in self.optimizers.items()}

    def _step_schedules(self) -> None:
        for s in self.schedulers.values():
            s.step()

    def checkpoint_path(self, which: str):
        """checkpoints/WHICH.pt, or checkpoints/NAME-WHICH.pt for a named model."""
        return self.run.checkpoint(f"{self.name}-{which}" if self.name else which)

    def fit(
        self,
        train: Split,
        val: Split | None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        resume: bool = False,
    ) -> FitResult:
        """Train for `epochs` (resuming from the run's last checkpoint when `resume`)."""
        self._fitting = True
        try:
            return self._fit(train, val, epochs=epochs, batch_size=batch_size, resume=resume)
        finally:
            self._fitting = False

    def _fit(
        self, train: Split, val: Split | None, *, epochs: int | None, batch_size: int | None, resume: bool
    ) -> FitResult:
        epochs, batch_size = epochs or self.epochs, batch_size or self.batch_size
        history: list[dict[str, Any]] = []
        has_val = val is not None and len(val) > 0
        start, best_value, best_epoch, train_seconds = 1, None, 0, 0.0  # None: the first epoch is the best so far
        if resume and self.checkpoint_path("last").is_file():
            state = self.load_checkpoint(self.checkpoint_path("last"))
            history = state["history"]
            start = state["epoch"] + 1
            best_value, best_epoch = state["best_value"], state["best_epoch"]
            train_seconds = state["train_seconds"]
            self.step = state.get("step", 0)
        if resume:  # rows after the checkpoint (or of a model that never reached one) are dropped
            others = [r for r in self.run.history if r.get("model") != self.name]
            self.run.rewrite_history(others + [self._tagged(r) for r in history])
        for epoch in range(start, epochs + 1):
            t0 = time.perf_counter()
            row: dict[str, Any] = {"epoch": epoch, **self._learning_rates()}
            row.update({f"train_{k}": v for k, v in self.train_epoch(train, batch_size, epoch).items()})
            seconds = time.perf_counter() - t0
            train_seconds += seconds
            validated = has_val and (epoch % self.eval_every == 0 or epoch == epochs)
            if validated:
                row.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
            self._step_schedules()
            row["epoch_seconds"] = seconds
            if self.epoch_metrics is not None:
                row.update(self.epoch_metrics(self, row))
            if self.monitor in row:
                value, mode = row[self.monitor], self.mode
            elif has_val and not validated:  # between validations nothing can become the best
                value, mode = None, self.mode
            else:  # no validation split: the training loss decides
                value, mode = row.get("train_loss", 0.0), "min"
            improved = value is not None and _is_better(value, best_value, mode)
            if improved:
                best_value, best_epoch = value, epoch
            history.append(row)
            if self.run is not None:
                self.run.log(self._tagged(row))
                state = self._state(epoch, history, best_value, best_epoch, train_seconds)
                if improved and self.restore_best:
                    write_checkpoint(self.checkpoint_path("best"), state)
                write_checkpoint(self.checkpoint_path("last"), state)
            self._print(row, epochs)
            self._tensorboard(row)
            for cb in self.callbacks:
                cb(self, row)
            if self.stop_requested:
                break
        if self.restore_best and self.run is not None and self.checkpoint_path("best").is_file():
            self.model.load_state_dict(evaluated_weights(read_checkpoint(self.checkpoint_path("best"))))
        elif self.ema is not None:
            self.model.load_state_dict(self.ema.module.state_dict())
        return FitResult(history, best_epoch, best_value, train_seconds, stopped_early=self.stop_requested)

    def _tagged(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.name, **row} if self.name else row

    def _tensorboard(self, row: dict[str, Any]) -> None:
        """Per-epoch scalars for TensorBoard when the run's config asks for them."""
        if self.run is None or not self.run.config.get("tensorboard"):
            return
        if self._writer is None:
            from mlplab.tensorboard import ScalarWriter

            folder = self.run.path / "tensorboard"
            self._writer = ScalarWriter(folder / self.name if self.name else folder)
        self._writer.write(row, row["epoch"])

    def _print(self, row: dict[str, Any], epochs: int) -> None:
        if not self.print_rows:
            return
        parts = ([self.name] if self.name else []) + [f"epoch {row['epoch']}/{epochs}"]
        parts += [
            f"{k} {v:.4f}" for k, v in row.items() if k != "epoch" and not k.startswith("lr") and isinstance(v, float)
        ]
        print("  ".join(parts), file=sys.stderr, flush=True)

    # ---- checkpoints ------------------------------------------------------------------------
    def _state(self, epoch: int, history: list, best_value: float, best_epoch: int, train_seconds: float) -> dict:
        state = {
            "format": CHECKPOINT_FORMAT,
            "spec": model_spec(self.model),
            "model": self.model.state_dict(),
            "epoch": epoch,
            "step": self.step,
            "history": history,
            "best_value": best_value,
            "best_epoch": best_epoch,
            "train_seconds": train_seconds,
            "rng": rng_state(self.generator),
            "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_checkpoint(self, path) -> dict:
        """Restore model, optimizer(s), scheduler(s) and RNG states; UserError if the model differs."""
        state = read_checkpoint(path)
        mine = model_spec(self.model)
        if state.get("spec") != mine:
            raise UserError(
                f"checkpoint {path} was written for a different model ({spec_text(state.get('spec'))}) "
                f"than this run builds ({spec_text(mine)}); resume with the run's own settings "
                "or start a new run"
            )
        self.model.load_state_dict(state["model"])
        if self.ema is not None:
            if "ema" not in state:
                raise UserError(
                    f"checkpoint {path} was written without ema; resume with the run's own settings or start a new run"
                )
            self.ema.load_state_dict(state["ema"])
        # a checkpoint from before one optimizer was a dict of one keeps it under "optimizer"
        saved = state["optimizers"] if "optimizers" in state else {ONE: state.get("optimizer")}
        for k, opt in self.optimizers.items():
            if not _same_optimizer(opt, (saved or {}).get(k)):
                raise UserError(
                    f"checkpoint {path} holds the state of another optimizer (or other optimizer "
                    "settings) than this run builds; resume with the run's own settings or start a "
                    "new run"
                )
            opt.load_state_dict(saved[k])
        # the schedule is a closed form of (epoch, total): place it, rather than load the old one, so that an
        # extended `epochs` continues with the lrs of a run planned for the new total
        for s in self.schedulers.values():
            place_schedule(s, state["epoch"])
        restore_rng(state["rng"], self.generator)
        return state


IMPLEMENTATION_KEYS = ("params", "lr", "initial_lr", "fused", "foreach", "capturable", "differentiable")


def _same_optimizer(optimizer: torch.optim.Optimizer, saved: Any) -> bool:
    """Whether `saved` (an optimizer state dict) has the same kind and hyperparameters (the lr aside) as `optimizer`:
    torch loads Adam's state into SGD without a word and fails at the first step."""

    def settings(groups: list[dict]) -> list[dict]:
        return [{k: v for k, v in g.items() if k not in IMPLEMENTATION_KEYS} for g in groups]

    try:
        return settings(saved["param_groups"]) == settings(optimizer.state_dict()["param_groups"])
    except (KeyError, TypeError):
        return False


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int = 4096) -> dict[str, float]:
    """Mean of every scalar `model.loss` returns, over `split`, in eval mode (the mode is restored after)."""
    was_training = model.training
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    for xb, yb in iterate_batches(split.x, split.y, batch_size, shuffle=False):
        out = model.loss((xb, yb))
        for k, v in out.items():
            if isinstance(v, PerExample):
                v = v.mean()
            if v.dim() == 0:
                sums[k] = sums.get(k, 0) + v.detach().double() * len(xb)
    model.train(was_training)
    return {k: float(v) / len(split) for k, v in sums.items()}


def rng_state(generator: torch.Generator) -> dict[str, Any]:
    """The global torch RNG, the batch-order generator and the CUDA RNGs, for a checkpoint."""
    return {
        "torch": torch.get_rng_state(),
        "generator": generator.get_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(rng: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(rng["torch"])
    generator.set_state(rng["generator"])
    if rng.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
