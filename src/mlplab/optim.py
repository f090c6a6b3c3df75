"""Hand-written optimizers on torch tensors: a template, SGD, SGD with momentum, Adam.

Each one is a `torch.optim.Optimizer`, so the Trainer, LR schedulers and checkpoints (state_dict) treat
it like torch's own; the update itself is written out in `update_param`, one parameter at a time.
Weight decay, where set, is L2 added to the gradient (g <- g + weight_decay * w), as torch.optim does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from mlplab.errors import UserError


def _check(name: str, lr: float, weight_decay: float, **coefficients: float) -> None:
    if not lr > 0:
        raise UserError(f"{name}: lr={lr} must be > 0")
    if not weight_decay >= 0:
        raise UserError(f"{name}: weight_decay={weight_decay} must be >= 0")
    for key, value in coefficients.items():
        if not 0 <= value < 1:
            raise UserError(f"{name}: {key}={value} must be in [0, 1)")


class OptimizerTemplate(torch.optim.Optimizer):
    """zero_grad, and a step that calls `update_param` for every parameter that has a gradient."""

    def __init__(self, params: Iterable[torch.Tensor], defaults: dict[str, float]):
        super().__init__(params, defaults)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:  # e.g. a layer that took no part in this loss
                    continue
                grad = p.grad
                if group["weight_decay"]:
                    grad = grad + group["weight_decay"] * p
                self.update_param(p, grad, self.state[p], group)
        return loss

    def update_param(self, p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        """Change `p` in place from its gradient; `state` persists between steps."""
        raise NotImplementedError


class SGD(OptimizerTemplate):
    """w <- w - lr * g."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        _check("SGD", lr, weight_decay)
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    def update_param(self, p, grad, state, group):
        p.add_(grad, alpha=-group["lr"])


class SGDMomentum(OptimizerTemplate):
    """The practical's momentum: m <- beta*m + (1-beta)*g, w <- w - lr*m  (m starts at 0).

    m is an exponential average of the gradients, so this follows exactly the trajectory of
    torch.optim.SGD(lr=lr*(1-beta), momentum=beta): torch keeps b <- beta*b + g (b_1 = g_1), and by
    induction b_t = m_t / (1-beta), so lr*m_t = lr*(1-beta)*b_t. The same lr therefore takes steps
    1/(1-beta) times shorter than torch's SGD with momentum (10x at beta=0.9).
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        _check("SGDMomentum", lr, weight_decay, momentum=momentum)
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def update_param(self, p, grad, state, group):
        beta = group["momentum"]
        if "m" not in state:
            state["m"] = torch.zeros_like(p)
        m = state["m"]
        m.mul_(beta).add_(grad, alpha=1 - beta)  # m <- beta*m + (1-beta)*g
        p.add_(m, alpha=-group["lr"])


class Adam(OptimizerTemplate):
    """Adam with bias correction (Kingma & Ba 2015):

    m <- b1*m + (1-b1)*g,   v <- b2*v + (1-b2)*g^2
    w <- w - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        _check("Adam", lr, weight_decay, beta1=beta1, beta2=beta2)
        if not eps > 0:
            raise UserError(f"Adam: eps={eps} must be > 0")
        super().__init__(params, {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay})

    def update_param(self, p, grad, state, group):
        b1, b2 = group["beta1"], group["beta2"]
        if "m" not in state:
            state["t"] = 0
            state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m.mul_(b1).add_(grad, alpha=1 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat_scale = 1 / (1 - b1**t)  # bias corrections: m and v start at 0
        v_hat = v / (1 - b2**t)
        p.addcdiv_(m, v_hat.sqrt().add_(group["eps"]), value=-group["lr"] * m_hat_scale)


SCRATCH_OPTIMIZERS = ("scratch-sgd", "scratch-sgdm", "scratch-adam")


def make_scratch_optimizer(
    params,
    name: str,
    lr: float,
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
) -> OptimizerTemplate:
    """One of SCRATCH_OPTIMIZERS by name (what `optimizer=scratch-...` builds in the Trainer)."""
    if name == "scratch-sgd":
        return SGD(params, lr, weight_decay=weight_decay)
    if name == "scratch-sgdm":
        return SGDMomentum(params, lr, momentum=momentum, weight_decay=weight_decay)
    if name == "scratch-adam":
        return Adam(params, lr, beta1=betas[0], beta2=betas[1], weight_decay=weight_decay)
    raise UserError(f"unknown optimizer {name!r}; choose one of: {', '.join(SCRATCH_OPTIMIZERS)}")
