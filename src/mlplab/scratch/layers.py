"""Layers whose every derivative is written by hand (NumPy, no autograd).

A layer maps a batch `x` (B, D_in) to `y` (B, D_out). `forward(x, remember=True)` keeps what the
backward pass needs; `backward(dL/dy) -> dL/dx` also fills the parameter gradients of layers that have
parameters (`grad_weight`, `grad_bias`, reused buffers of the parameters' shapes).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from mlplab.errors import UserError

Init = Literal["he", "xavier", "normal"]


class Layer:
    """Base: a named map with an optional cache for the backward pass."""

    name: str = ""

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(value, gradient) pairs; optimizers update the values in place."""
        return []

    def describe(self) -> str:
        return f"{self.name} ({type(self).__name__})" if self.name else type(self).__name__

    def _cached(self, value: np.ndarray | None) -> np.ndarray:
        if value is None:
            raise RuntimeError(f"{self.describe()}: backward() needs a forward(x, remember=True) first")
        return value


class Linear(Layer):
    """y = x W^T + b with W (out, in), as torch.nn.Linear stores it."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: Init = "he",
        rng: np.random.Generator | None = None,
        dtype: type = np.float64,
        name: str = "",
    ):
        if in_features < 1 or out_features < 1:
            raise UserError(f"Linear layer {name or ''} needs positive sizes, got {in_features} -> {out_features}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.in_features, self.out_features, self.name = in_features, out_features, name
        self.weight = (
            rng.standard_normal((out_features, in_features)) * init_std(init, in_features, out_features)
        ).astype(dtype)  # (out, in)
        self.bias = np.zeros(out_features, dtype=dtype)  # (out,)
        self.grad_weight = np.zeros_like(self.weight)
        self.grad_bias = np.zeros_like(self.bias)
        self._x: np.ndarray | None = None

    def describe(self) -> str:
        return f"{self.name} (Linear {self.in_features}->{self.out_features})"

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise UserError(
                f"layer {self.describe()} expects input of shape (batch, {self.in_features}), got {tuple(x.shape)}"
            )
        self._x = x if remember else None
        y = x @ self.weight.T  # (B, out)
        y += self.bias
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)  # (B, in)
        np.matmul(grad.T, x, out=self.grad_weight)  # dL/dW = g^T x   (out, in)
        np.sum(grad, axis=0, out=self.grad_bias)  # dL/db = sum_B g    (out,)
        return grad @ self.weight  # dL/dx = g W      (B, in)

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.weight, self.grad_weight), (self.bias, self.grad_bias)]


def init_std(init: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the initial weights: He sqrt(2/fan_in), Xavier sqrt(2/(in+out)), plain 1."""
    if init == "he":
        return float(np.sqrt(2.0 / fan_in))
    if init == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if init == "normal":
        return 1.0
    raise UserError(f"unknown init {init!r}; choose he, xavier or normal")


class ReLU(Layer):
    """y = max(x, 0);  dy/dx = [x > 0]."""

    def __init__(self, name: str = ""):
        self.name, self._mask = name, None

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        mask = x > 0
        self._mask = mask if remember else None
        return x * mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self._cached(self._mask)


class LeakyReLU(Layer):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    def __init__(self, slope: float = 0.01, name: str = ""):
        self.slope, self.name, self._scale = slope, name, None

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        scale = np.where(x > 0, 1.0, self.slope).astype(x.dtype)
        self._scale = scale if remember else None
        return x * scale

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self._cached(self._scale)


class Sigmoid(Layer):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y)."""

    def __init__(self, name: str = ""):
        self.name, self._y = name, None

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        y = sigmoid(x)
        self._y = y if remember else None
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._cached(self._y)
        return grad * y * (1.0 - y)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable for large |x|: e^-|x| never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Tanh(Layer):
    """y = tanh x;  dy/dx = 1 - y^2."""

    def __init__(self, name: str = ""):
        self.name, self._y = name, None

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        y = np.tanh(x)
        self._y = y if remember else None
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._cached(self._y)
        return grad * (1.0 - y * y)


class Softmax(Layer):
    """y_i = e^{x_i} / sum_j e^{x_j} per row;  dL/dx = y * (g - sum_j g_j y_j)."""

    def __init__(self, name: str = ""):
        self.name, self._y = name, None

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        y = softmax(x)
        self._y = y if remember else None
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        y = self._cached(self._y)  # (B, K)
        return y * (grad - np.sum(grad * y, axis=1, keepdims=True))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that exp never overflows."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def activation(name: str, layer_name: str = "") -> Layer:
    if name not in ACTIVATIONS:
        raise UserError(f"unknown activation {name!r}; the scratch engine has: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name](name=layer_name)
