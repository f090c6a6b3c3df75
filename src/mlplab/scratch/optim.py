"""Hand-written SGD with momentum, step for step the update of torch.optim.SGD (dampening 0).

g <- g + weight_decay * p
v <- g                   on the first step,   v <- momentum * v + g   after it
p <- p - lr * (g + momentum * v  if nesterov else  v)
"""

from __future__ import annotations

import numpy as np

from mlplab.errors import UserError


class SGD:
    def __init__(
        self,
        params: list[tuple[np.ndarray, np.ndarray]],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        if not lr > 0:
            raise UserError(f"SGD: lr={lr} must be > 0")
        if not 0 <= momentum < 1:
            raise UserError(f"SGD: momentum={momentum} must be in [0, 1)")
        if weight_decay < 0:
            raise UserError(f"SGD: weight_decay={weight_decay} must be >= 0")
        if nesterov and momentum == 0:
            raise UserError("SGD: nesterov=True needs momentum > 0")
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, nesterov
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter in place from the gradient its layer's backward() left."""
        for i, (p, g) in enumerate(self.params):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                v = self.velocity[i]
                if v is None:
                    v = self.velocity[i] = g.copy()
                else:
                    v *= self.momentum
                    v += g
                g = g + self.momentum * v if self.nesterov else v
            p -= self.lr * g
