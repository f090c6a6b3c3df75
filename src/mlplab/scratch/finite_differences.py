"""Gradient checks of the hand-written derivatives: the cases, central finite differences, relative errors.

A layer is checked through the scalar s = sum(forward(x) * G) for a fixed random G, so dL/dy = G and the
layer's backward(G) must equal ds/dx (and ds/dW, ds/db). A loss is checked through its own value, the
whole MLP through its training loss. References (torch.autograd) live in mlplab.analysis.scratch_vs_torch;
this module stays NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlplab.scratch.layers import Layer, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh, softmax
from mlplab.scratch.losses import MSE, CrossEntropy, SoftmaxCrossEntropy
from mlplab.scratch.mlp import MLP

Arrays = dict[str, np.ndarray]


@dataclass
class Case:
    """One thing to check: its differentiable arrays, its scalar value and its hand-written gradients."""

    name: str
    kind: str  # Linear, ReLU, ..., CrossEntropy, SoftmaxCrossEntropy, MSE, MLP
    arrays: Arrays  # differentiable inputs; value/grads read them (finite differences perturb them in place)
    value: Callable[[], float]
    grads: Callable[[], Arrays]
    extra: dict = field(default_factory=dict)  # non-differentiable inputs: upstream G, labels, targets, spec


def relative_error(a: np.ndarray, ref: np.ndarray) -> float:
    """max |a - ref| / max |ref|: the error relative to the reference's scale (0 when both vanish)."""
    diff = float(np.max(np.abs(a - ref))) if a.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    return diff / scale if scale > 0 else diff


def numeric_gradient(value: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences (f(a + h e_i) - f(a - h e_i)) / 2h for every entry of `array` (perturbed in place)."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        up = value()
        flat[i] = keep - h
        down = value()
        flat[i] = keep
        gflat[i] = (up - down) / (2 * h)
    return grad


def numeric_gradients(case: Case, h: float = 1e-6) -> Arrays:
    return {k: numeric_gradient(case.value, a, h) for k, a in case.arrays.items()}


def layer_case(layer: Layer, kind: str, x: np.ndarray, rng: np.random.Generator) -> Case:
    """s = sum(layer(x) * G) for a random G (B, D_out)."""
    arrays: Arrays = {"x": x}
    if isinstance(layer, Linear):
        arrays.update(weight=layer.weight, bias=layer.bias)
        layer.bias[...] = rng.standard_normal(layer.bias.shape)  # zero biases would hide a wrong bias gradient
    upstream = rng.standard_normal(layer.forward(x, remember=False).shape)

    def value() -> float:
        return float(np.sum(layer.forward(arrays["x"], remember=False) * upstream))

    def grads() -> Arrays:
        layer.forward(arrays["x"])
        out = {"x": layer.backward(upstream)}
        if isinstance(layer, Linear):
            out.update(weight=layer.grad_weight.copy(), bias=layer.grad_bias.copy())
        return out

    extra = {"G": upstream, "slope": getattr(layer, "slope", None)}
    return Case(kind, kind, arrays, value, grads, extra)


def loss_case(loss, kind: str, pred: np.ndarray, target: np.ndarray) -> Case:
    arrays = {"pred": pred}

    def value() -> float:
        return loss.forward(arrays["pred"], target)

    def grads() -> Arrays:
        loss.forward(arrays["pred"], target)
        return {"pred": loss.backward()}

    return Case(kind, kind, arrays, value, grads, {"target": target})


def mlp_case(model: MLP, x: np.ndarray, y: np.ndarray, activation: str) -> Case:
    """The whole network's training loss as a function of its input and every weight and bias."""
    arrays = {"x": x, **model.state()}

    def value() -> float:
        return model.loss_fn.forward(model.forward(arrays["x"], remember=False), y)

    def grads() -> Arrays:
        model.loss_fn.forward(model.forward(arrays["x"]), y)
        out = {"x": model.backward(model.loss_fn.backward())}
        for layer in model.linear_layers():
            out[f"{layer.name}.weight"], out[f"{layer.name}.bias"] = layer.grad_weight.copy(), layer.grad_bias.copy()
        return out

    spec = {
        "in_features": model.in_features,
        "hidden": model.hidden,
        "out_features": model.out_features,
        "activation": activation,
    }
    return Case(
        f"MLP {model.in_features}-{'-'.join(map(str, model.hidden))}-{model.out_features} ({activation})",
        "MLP",
        arrays,
        value,
        grads,
        {"target": y, "spec": spec},
    )


def all_cases(
    rng: np.random.Generator, batch: int = 4, d_in: int = 5, d_out: int = 3, hidden: tuple[int, ...] = (7, 6)
) -> list[Case]:
    """Every layer, every loss, and a whole MLP for each activation, on random float64 inputs."""

    def x(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape)

    cases = [layer_case(Linear(d_in, d_out, rng=rng, name="fc"), "Linear", x(batch, d_in), rng)]
    for kind, layer in (
        ("ReLU", ReLU()),
        ("LeakyReLU", LeakyReLU(0.01)),
        ("Sigmoid", Sigmoid()),
        ("Tanh", Tanh()),
        ("Softmax", Softmax()),
    ):
        cases.append(layer_case(layer, kind, x(batch, d_in), rng))
    labels = rng.integers(0, d_out, size=batch)
    cases.append(loss_case(CrossEntropy(), "CrossEntropy", softmax(x(batch, d_out)), labels))
    cases.append(loss_case(SoftmaxCrossEntropy(), "SoftmaxCrossEntropy", x(batch, d_out), labels))
    cases.append(loss_case(MSE(), "MSE", x(batch, d_out), x(batch, d_out)))
    for act in ("relu", "leaky_relu", "sigmoid", "tanh"):
        model = MLP(d_in, list(hidden), d_out, activation=act, init="he", seed=rng)
        for layer in model.linear_layers():
            layer.bias[...] = 0.1 * rng.standard_normal(layer.bias.shape)
        cases.append(mlp_case(model, x(batch, d_in), labels, act))
    return cases
