"""Optimizers and learning-rate schedules by name."""
from __future__ import annotations

import math
from typing import Callable

import torch

from mlplab.errors import UserError


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


def schedule_factor(name: str, epochs: int) -> Callable[[int], float] | None:
    """The lr multiplier after `e` epochs as a closed form of (e, epochs): none, cosine (to 0 at `epochs`) or
    step (x0.1 at 50% and 75%). Closed forms, not torch's recursive updates, so that the lr of an epoch
    depends on nothing but its number and the total: a resume that extends `epochs` follows, from the next
    epoch on, exactly the lrs of a fresh run planned for the new total."""
    total = max(epochs, 1)
    if name == "none":
        return None
    if name == "cosine":
        return lambda e: 0.5 * (1.0 + math.cos(math.pi * min(e, total) / total))
    if name == "step":
        milestones = (max(1, total // 2), max(1, 3 * total // 4))
        return lambda e: 0.1 ** sum(e >= m for m in milestones)
    raise UserError(f"unknown schedule {name!r}; choose none, cosine or step")


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, epochs: int):
    """none, cosine or step (see `schedule_factor`), stepped once per epoch; None for none."""
    factor = schedule_factor(name, epochs)
    return None if factor is None else torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def place_schedule(scheduler, epochs_done: int) -> None:
    """Set `scheduler` and its optimizer's lrs to where they stand after `epochs_done` epochs (on resume)."""
    scheduler.last_epoch = epochs_done
    lrs = [base * fn(epochs_done) for base, fn in zip(scheduler.base_lrs, scheduler.lr_lambdas)]
    for group, lr in zip(scheduler.optimizer.param_groups, lrs):
        group["lr"] = lr
    scheduler._last_lr = lrs
