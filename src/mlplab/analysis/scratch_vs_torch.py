"""The scratch engine judged by torch: gradients against torch.autograd, a twin training run against torch.nn.

Everything here is float64 so that the only differences left are rounding (about 1e-16 relative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from mlplab.nn import MLPClassifier
from mlplab.scratch.finite_differences import Arrays, Case, numeric_gradients, relative_error
from mlplab.scratch.loop import batch_order
from mlplab.scratch.mlp import MLP

LAYER_FNS = {
    "Linear": lambda t, e: F.linear(t["x"], t["weight"], t["bias"]),
    "ReLU": lambda t, e: torch.relu(t["x"]),
    "LeakyReLU": lambda t, e: F.leaky_relu(t["x"], e["slope"]),
    "Sigmoid": lambda t, e: torch.sigmoid(t["x"]),
    "Tanh": lambda t, e: torch.tanh(t["x"]),
    "Softmax": lambda t, e: torch.softmax(t["x"], dim=1),
}
LOSS_FNS = {
    "CrossEntropy": lambda p, target: F.nll_loss(torch.log(p), target),
    "SoftmaxCrossEntropy": lambda z, target: F.cross_entropy(z, target),
    "MSE": lambda p, target: F.mse_loss(p, target),
}


def torch_mlp(spec: dict) -> MLPClassifier:
    """mlplab's torch.nn MLP with the scratch MLP's architecture, in float64 (weights to be copied in)."""
    return MLPClassifier(
        spec["in_features"], spec["hidden"], spec["out_features"], activation=spec["activation"], dropout=0.0
    ).double()


def autograd_gradients(case: Case) -> tuple[float, Arrays]:
    """The case's scalar computed by torch, and its gradients from torch.autograd."""
    t = {k: torch.tensor(a, dtype=torch.float64, requires_grad=True) for k, a in case.arrays.items()}
    e = case.extra
    if case.kind in LAYER_FNS:
        scalar = (LAYER_FNS[case.kind](t, e) * torch.from_numpy(e["G"])).sum()
    elif case.kind in LOSS_FNS:
        scalar = LOSS_FNS[case.kind](t["pred"], torch.as_tensor(e["target"]))
    elif case.kind == "MLP":
        model = torch_mlp(e["spec"])
        params = {f"net.{k}": v for k, v in t.items() if k != "x"}
        scalar = F.cross_entropy(functional_call(model, params, (t["x"],)), torch.as_tensor(e["target"]))
    else:
        raise ValueError(f"no torch reference for {case.kind!r}")
    scalar.backward()
    return scalar.item(), {k: v.grad.numpy() for k, v in t.items()}


def check_case(case: Case, h: float = 1e-6) -> dict:
    """One table row: the largest absolute and relative errors over every differentiable array."""
    hand = case.grads()
    _, auto = autograd_gradients(case)
    numeric = numeric_gradients(case, h)
    return {
        "component": case.name,
        "arrays": " ".join(f"{k}{tuple(a.shape)}" for k, a in case.arrays.items()),
        "max_abs_error_autograd": max(float(np.max(np.abs(hand[k] - auto[k]))) for k in hand),
        "max_rel_error_autograd": max(relative_error(hand[k], auto[k]) for k in hand),
        "max_abs_error_finite_diff": max(float(np.max(np.abs(hand[k] - numeric[k]))) for k in hand),
        "max_rel_error_finite_diff": max(relative_error(hand[k], numeric[k]) for k in hand),
    }


@dataclass
class TwinRun:
    scratch_loss: np.ndarray  # (steps,)
    torch_loss: np.ndarray  # (steps,)

    @property
    def rel_diff(self) -> np.ndarray:
        return np.abs(self.scratch_loss - self.torch_loss) / np.abs(self.torch_loss)


def twin_run(
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    hidden: list[int],
    *,
    steps: int = 200,
    batch_size: int = 32,
    lr: float = 0.05,
    momentum: float = 0.9,
    activation: str = "relu",
    seed: int = 0,
) -> TwinRun:
    """Train the scratch MLP and torch.nn's MLP from identical weights on identical batches; losses per step."""
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(len(x), -1)
    ours = MLP(x.shape[1], hidden, num_classes, activation=activation, seed=seed, lr=lr, momentum=momentum)
    ref = torch_mlp(
        {"in_features": x.shape[1], "hidden": hidden, "out_features": num_classes, "activation": activation}
    )
    with torch.no_grad():
        for name, value in ours.state().items():
            ref.net.get_parameter(name).copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(ref.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    order: list[np.ndarray] = []
    while len(order) < steps:
        order += batch_order(len(x), batch_size, rng)
    xt, yt = torch.from_numpy(x), torch.from_numpy(np.asarray(y, dtype=np.int64))
    a, b = np.zeros(steps), np.zeros(steps)
    for step, idx in enumerate(order[:steps]):
        a[step] = ours.training_step(x[idx], y[idx])
        opt.zero_grad()
        loss = F.cross_entropy(ref(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        b[step] = loss.item()
    return TwinRun(a, b)
