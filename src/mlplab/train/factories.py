"""Optimizers and learning-rate schedules by name."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from mlplab.errors import UserError


def make_optimizer(
    params,
    name: str,
    lr: float,
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    device: torch.device | str = "cpu",
) -> torch.optim.Optimizer:
    """adam, adamw or sgd (with momentum), fused where torch has kernels for the device; or the hand-written
    scratch-sgd, scratch-sgdm, scratch-adam of mlplab.optim."""
    params = list(params)
    if name.startswith("scratch-"):
        from mlplab.optim import make_scratch_optimizer

        return make_scratch_optimizer(params, name, lr, weight_decay=weight_decay, momentum=momentum)
    fused = {"fused": True} if _fused_ok(params, device) else {}
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **fused)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, **fused)
    raise UserError(f"unknown optimizer {name!r}; choose adam, adamw, sgd, scratch-sgd, scratch-sgdm or scratch-adam")


def _fused_ok(params: list, device: torch.device | str) -> bool:
    return str(device).split(":")[0] in ("cpu", "cuda") and all(
        p.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) for p in params
    )


def schedule_factor(name: str, epochs: int) -> Callable[[int], float] | None:
    """The lr multiplier after `e` epochs as a closed form of (e, epochs): none, cosine (to 0 at `epochs`) or
    step (x0.1 at 50% and 75%) or onecycle (torch's OneCycleLR over `epochs` + 1 points: warm up
    from lr/25 to lr over 30%, then cosine-anneal to lr/25e4). Closed forms, not torch's recursive updates, so
    that the lr of an epoch depends on nothing but its number and the total: a resume that extends `epochs`
    follows, from the next epoch on, exactly the lrs of a fresh run planned for the new total."""
    total = max(epochs, 1)
    if name == "none":
        return None
    if name == "cosine":
        return lambda e: 0.5 * (1.0 + math.cos(math.pi * min(e, total) / total))
    if name == "step":
        milestones = (max(1, total // 2), max(1, 3 * total // 4))
        return lambda e: 0.1 ** sum(e >= m for m in milestones)
    if name == "onecycle":
        return _one_cycle(total + 1)  # the Trainer steps it after each epoch, so the last step lands on the minimum
    raise UserError(f"unknown schedule {name!r}; choose none, cosine, step or onecycle")


def _one_cycle(points: int, pct_start: float = 0.3, div: float = 25.0, final_div: float = 1e4):
    """OneCycleLR's factor of the peak lr at step e (torch's two-phase cosine form, as a function of e)."""
    warm_end, last = max(pct_start * points - 1, 1e-9), points - 1

    def anneal(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * min(max(pct, 0.0), 1.0)) + 1)

    def factor(e: int) -> float:
        if e <= warm_end:
            return anneal(1 / div, 1.0, e / warm_end)
        return anneal(1.0, 1 / div / final_div, (e - warm_end) / max(last - warm_end, 1e-9))

    return factor


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, epochs: int):
    """none, cosine, step or onecycle (see `schedule_factor`), stepped once per epoch; None for none."""
    factor = schedule_factor(name, epochs)
    return None if factor is None else torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def place_schedule(scheduler, epochs_done: int) -> None:
    """Set `scheduler` and its optimizer's lrs to where they stand after `epochs_done` epochs (on resume)."""
    scheduler.last_epoch = epochs_done
    lrs = [base * fn(epochs_done) for base, fn in zip(scheduler.base_lrs, scheduler.lr_lambdas, strict=True)]
    for group, lr in zip(scheduler.optimizer.param_groups, lrs, strict=True):
        group["lr"] = lr
    scheduler._last_lr = lrs
