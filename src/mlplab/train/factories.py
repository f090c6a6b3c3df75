"""Optimizers and learning-rate schedules by name."""
from __future__ import annotations

import torch

from mlplab.errors import UserError


def make_optimizer(params, name: str, lr: float, *, weight_decay: float = 0.0, momentum: float = 0.9,
                   device: torch.device | str = "cpu") -> torch.optim.Optimizer:
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
        p.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) for p in params)


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, epochs: int):
    """none, cosine (to 0 over the run), step (x0.1 at 50% and 75%) or onecycle (warm up to lr over 30%, then
    anneal to lr/1e4), stepped once per epoch."""
    if name == "none":
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, [max(1, epochs // 2), max(1, 3 * epochs // 4)], 0.1)
    if name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        # epochs + 1 points: the Trainer steps it after each epoch, so the last step lands on the minimum
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs + 1, cycle_momentum=False)
    raise UserError(f"unknown schedule {name!r}; choose none, cosine, step or onecycle")
