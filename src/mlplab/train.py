"""One trainer for every model that returns `{"loss": ...}` from `model.loss(batch)`.

fit / evaluate, an optional LR schedule, evaluation each epoch, best and last checkpoints written
atomically with the RNG states, resume, and a NaN/Inf guard that stops and keeps the last good
checkpoint. Same seed on CPU, same numbers.
"""
from __future__ import annotations

import io
import math
import sys
import time
from itertools import islice
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch
from torch import nn

from mlplab.data.augment import Augment
from mlplab.data.batches import iterate_batches, num_batches
from mlplab.data.core import Split
from mlplab.errors import RunFailed, UserError
from mlplab.runs import Run, atomic_write_bytes

CHECKPOINT_FORMAT = 1


class Callback(Protocol):
    def __call__(self, trainer: "Trainer", row: dict[str, Any]) -> None: ...


def make_optimizer(params, name: str, lr: float, *, weight_decay: float = 0.0, momentum: float = 0.9,
                   device: torch.device | str = "cpu") -> torch.optim.Optimizer:
    """adam, adamw or sgd (with momentum); fused kernels where torch has them for the device."""
    params = list(params)
    fused = {"fused": True} if _fused_ok(params, device) else {}
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, **fused)
    raise UserError(f"unknown optimizer {name!r}; choose adam, adamw or sgd")


def _fused_ok(params: list, device: torch.device | str) -> bool:
    return str(device).split(":")[0] in ("cpu", "cuda") and all(
        p.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) for p in params)


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, epochs: int):
    """none, cosine (to 0 over the run) or step (x0.1 at 50% and 75%), stepped once per epoch."""
    if name == "none":
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, [max(1, epochs // 2), max(1, 3 * epochs // 4)], 0.1)
    raise UserError(f"unknown schedule {name!r}; choose none, cosine or step")


@dataclass
class FitResult:
    history: list[dict[str, Any]]
    best_epoch: int
    best_value: float
    train_seconds: float
    stopped_early: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _is_better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


class Trainer:
    """Train `model` with `optimizer`; write checkpoints and per-epoch rows into `run` (if given)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, *, run: Run | None = None,
                 generator: torch.Generator | None = None, scheduler=None, augment: Augment | None = None,
                 callbacks: list[Callable] = (), monitor: str = "val_loss", mode: str = "min",
                 restore_best: bool = True, progress: bool | None = None, eval_batch_size: int = 4096,
                 nan_check_every: int | None = None, steps_per_epoch: int | None = None,
                 total_steps: int | None = None, epoch_metrics: Callable | None = None):
        self.model = model
        # a model with `training_step` brings several optimizers (dict from its configure_optimizers)
        self.optimizers: dict[str, torch.optim.Optimizer] = dict(optimizer) if isinstance(optimizer, dict) else {}
        self.optimizer = next(iter(self.optimizers.values())) if self.optimizers else optimizer
        self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps
        self.epoch_metrics = epoch_metrics  # (trainer, row) -> more scalars for the row, before it is logged
        self.run = run
        self.generator = generator or torch.Generator().manual_seed(0)
        self.scheduler = scheduler
        self.augment = augment
        self.callbacks = list(callbacks)
        self.monitor, self.mode = monitor, mode
        self.restore_best = restore_best
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.eval_batch_size = eval_batch_size
        self.device = next(model.parameters()).device
        self.nan_check_every = nan_check_every or 25  # the epoch-end check below still guards every checkpoint
        self.stop_requested = False
        self._writer = None

    # ---- evaluation -------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, split: Split, batch_size: int | None = None) -> dict[str, float]:
        """Mean of every scalar the model's loss returns, over `split`, in eval mode."""
        was_training = self.model.training
        self.model.eval()
        sums: dict[str, torch.Tensor] = {}
        for xb, yb in iterate_batches(split.x, split.y, batch_size or self.eval_batch_size, shuffle=False):
            out = self.model.loss((xb, yb))
            for k, v in out.items():
                if v.dim() == 0:
                    sums[k] = sums.get(k, 0) + v.detach().double() * len(xb)
        self.model.train(was_training)
        return {k: float(v) / len(split) for k, v in sums.items()}

    # ---- training ---------------------------------------------------------------------------
    def train_epoch(self, split: Split, batch_size: int, epoch: int) -> dict[str, float]:
        if hasattr(self.model, "training_step"):
            return self.train_epoch_model_step(split, batch_size, epoch)
        self.model.train()
        sums: dict[str, torch.Tensor] = {}
        batches = iterate_batches(split.x, split.y, batch_size, shuffle=True, generator=self.generator)
        if self.progress:
            from tqdm import tqdm
            batches = tqdm(batches, total=num_batches(len(split), batch_size), desc=f"epoch {epoch}",
                           leave=False, file=sys.stderr)
        values: dict[str, list[torch.Tensor]] = {}
        sizes: list[int] = []
        for step, (xb, yb) in enumerate(batches):
            if self.augment is not None:
                xb = self.augment(xb, self.generator)
            out = self.model.loss((xb, yb))
            loss = out["loss"]
            if step % self.nan_check_every == 0 and not torch.isfinite(loss):
                raise RunFailed(f"loss became {loss.item()} at epoch {epoch}, step {step}; training stopped "
                                f"and the last good checkpoint was kept; lower lr or check the inputs")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            # keep the per-step scalars and weigh them once at the end: no extra kernels per step
            sizes.append(len(xb))
            for k, v in out.items():
                if v.dim() == 0:
                    values.setdefault(k, []).append(v.detach())
        weights = torch.tensor(sizes, dtype=torch.float64)
        for k, vs in values.items():
            sums[k] = (torch.stack(vs).double().cpu() * weights).sum()
        means = {k: float(v) / len(split) for k, v in sums.items()}
        if not all(math.isfinite(v) for v in means.values()):
            raise RunFailed(f"training metrics became {means} in epoch {epoch}; training stopped and the "
                            "last good checkpoint was kept; lower lr or check the inputs")
        return means

    # ---- models with their own step (several optimizers: the GAN) -----------------------------
    def train_epoch_model_step(self, split: Split, batch_size: int, epoch: int) -> dict[str, float]:
        """`model.training_step(batch, optimizers, step, generator)` does the updates; an epoch is one pass,
        or `steps_per_epoch` batches drawn from fresh shuffled passes (capped by `total_steps`)."""
        self.model.train()
        steps = self.steps_per_epoch or max(1, len(split) // batch_size)
        done = (epoch - 1) * steps
        if self.total_steps is not None:
            steps = max(0, min(steps, self.total_steps - done))
        values: dict[str, list[torch.Tensor]] = {}
        for i, batch in enumerate(islice(self._batch_stream(split, batch_size), steps)):
            out = self.model.training_step(batch, self.optimizers, done + i, self.generator)
            if i % self.nan_check_every == 0 and not torch.isfinite(out["loss"]):
                raise RunFailed(f"loss became {out['loss'].item()} at epoch {epoch}, step {done + i}; training "
                                "stopped and the last good checkpoint was kept; lower lr or check the inputs")
            for k, v in out.items():
                if v.dim() == 0:
                    values.setdefault(k, []).append(v.detach())
        means = {k: float(torch.stack(vs).double().mean()) for k, vs in values.items()}
        if not all(math.isfinite(v) for v in means.values()):
            raise RunFailed(f"training metrics became {means} in epoch {epoch}; training stopped and the "
                            "last good checkpoint was kept; lower lr or check the inputs")
        return means

    def _batch_stream(self, split: Split, batch_size: int):
        """Endless full batches, one seeded permutation per pass; restarts each epoch, so resume is exact."""
        while True:
            yield from iterate_batches(split.x, split.y, batch_size, shuffle=True, generator=self.generator,
                                       drop_last=len(split) >= batch_size)

    def _optimizer_state(self) -> dict:
        if self.optimizers:
            return {name: opt.state_dict() for name, opt in self.optimizers.items()}
        return self.optimizer.state_dict()

    def _load_optimizer_state(self, state: dict) -> None:
        if self.optimizers:
            for name, opt in self.optimizers.items():
                opt.load_state_dict(state[name])
        else:
            self.optimizer.load_state_dict(state)

    # ---- the loop ---------------------------------------------------------------------------------
    def fit(self, train: Split, val: Split | None, *, epochs: int, batch_size: int,
            resume: bool = False) -> FitResult:
        """Train for `epochs` (resuming from the run's last checkpoint when `resume`)."""
        history: list[dict[str, Any]] = []
        start, best_value, best_epoch, train_seconds = 1, None, 0, 0.0  # None: the first epoch is the best so far
        if resume:
            state = self.load_checkpoint(self.run.checkpoint("last"))
            history = state["history"]
            start = state["epoch"] + 1
            best_value, best_epoch = state["best_value"], state["best_epoch"]
            train_seconds = state["train_seconds"]
            self.run.rewrite_history(history)
        for epoch in range(start, epochs + 1):
            t0 = time.perf_counter()
            row: dict[str, Any] = {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"]}
            row.update({f"train_{k}": v for k, v in self.train_epoch(train, batch_size, epoch).items()})
            seconds = time.perf_counter() - t0
            train_seconds += seconds
            if val is not None and len(val):
                row.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
            if self.scheduler is not None:
                self.scheduler.step()
            row["epoch_seconds"] = seconds
            if self.epoch_metrics is not None:
                row.update(self.epoch_metrics(self, row))
            if self.monitor in row:
                value, mode = row[self.monitor], self.mode
            else:  # no validation split: the training loss decides
                value, mode = row["train_loss"], "min"
            improved = _is_better(value, best_value, mode)
            if improved:
                best_value, best_epoch = value, epoch
            history.append(row)
            if self.run is not None:
                self.run.log(row)
                state = self._state(epoch, history, best_value, best_epoch, train_seconds)
                if improved:
                    self._save(self.run.checkpoint("best"), state)
                self._save(self.run.checkpoint("last"), state)
            self._print(row, epochs)
            self._tensorboard(row)
            for cb in self.callbacks:
                cb(self, row)
            if self.stop_requested:
                break
        if self.restore_best and self.run is not None and self.run.checkpoint("best").is_file():
            self.model.load_state_dict(self._read(self.run.checkpoint("best"))["model"])
        return FitResult(history, best_epoch, best_value, train_seconds, stopped_early=self.stop_requested)

    def _tensorboard(self, row: dict[str, Any]) -> None:
        """Per-epoch scalars for TensorBoard when the run's config asks for them."""
        if self.run is None or not self.run.config.get("tensorboard"):
            return
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise UserError("tensorboard=true needs the tensorboard package: pip install tensorboard") from None
            self._writer = SummaryWriter(log_dir=str(self.run.path / "tensorboard"))
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)):
                self._writer.add_scalar(key.replace("_", "/", 1), value, row["epoch"])
        self._writer.flush()

    def _print(self, row: dict[str, Any], epochs: int) -> None:
        parts = [f"epoch {row['epoch']}/{epochs}"]
        parts += [f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr") and isinstance(v, float)]
        print("  ".join(parts), file=sys.stderr, flush=True)

    # ---- checkpoints ------------------------------------------------------------------------
    def _state(self, epoch: int, history: list, best_value: float, best_epoch: int, train_seconds: float) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            "spec": getattr(self.model, "spec", {"class": type(self.model).__name__}),
            "model": self.model.state_dict(),
            "optimizer": self._optimizer_state(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": epoch,
            "history": history,
            "best_value": best_value,
            "best_epoch": best_epoch,
            "train_seconds": train_seconds,
            "rng": {"torch": torch.get_rng_state(), "generator": self.generator.get_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    @staticmethod
    def _save(path, state: dict) -> None:
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(path, buf.getvalue())

    @staticmethod
    def _read(path) -> dict:
        return read_checkpoint(path)

    def load_checkpoint(self, path) -> dict:
        """Restore model, optimizer, scheduler and RNG states; UserError if the model differs."""
        state = read_checkpoint(path)
        mine = getattr(self.model, "spec", {"class": type(self.model).__name__})
        if state.get("spec") != mine:
            raise UserError(f"checkpoint {path} was written for a different model ({_spec_text(state.get('spec'))}) "
                            f"than this run builds ({_spec_text(mine)}); resume with the run's own settings "
                            "or start a new run")
        self.model.load_state_dict(state["model"])
        self._load_optimizer_state(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"]["torch"])
        self.generator.set_state(state["rng"]["generator"])
        if state["rng"].get("cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        return state


def _spec_text(spec: Any) -> str:
    if not isinstance(spec, dict):
        return str(spec)
    return ", ".join(f"{k}={v}" for k, v in spec.items())


def read_checkpoint(path) -> dict:
    """torch.load with weights_only=True; a missing or broken file is a UserError."""
    from pathlib import Path
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; resume needs a run folder with checkpoints/last.pt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"cannot read checkpoint {path} ({type(exc).__name__}); it is damaged or not an "
                        "mlplab checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is not an mlplab checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def save_weights(model: nn.Module, path) -> None:
    """The model's spec and weights (no optimizer state), atomically, in the checkpoint format."""
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "spec": model.spec, "model": model.state_dict()}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_model(path) -> nn.Module:
    """The model of a checkpoint (a Trainer's or `save_weights`'), rebuilt from its spec, on the CPU."""
    from mlplab.nn import build_model

    state = read_checkpoint(path)
    try:
        model = build_model(state["spec"])
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise UserError(f"{path} does not hold a model mlplab can rebuild ({type(exc).__name__}); "
                        "give a checkpoint made by this version") from None
    return model
