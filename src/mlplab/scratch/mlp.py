"""The scratch MLP: Linear -> activation blocks, fused softmax cross-entropy, SGD; no autograd.

Layer names follow mlplab.nn.MLPClassifier (fc1, act1, ..., out), so weights copy across by name.
Training stops with RunFailed, naming the step and the first layer whose values stopped being finite,
rather than letting inf or NaN flow on (and no gradient is ever clipped or clamped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlplab.errors import RunFailed, UserError
from mlplab.scratch.layers import Init, Layer, Linear
from mlplab.scratch.layers import activation as make_activation
from mlplab.scratch.losses import SoftmaxCrossEntropy
from mlplab.scratch.optim import SGD

DTYPES = {"float64": np.float64, "float32": np.float32}


class Diverged(RunFailed):
    """Training produced inf or NaN: where (step, layer, pass) and the per-layer norms at that step."""

    def __init__(self, step: int, layer: str, where: str, norms: dict[str, dict[str, float]]):
        self.step, self.layer, self.where, self.norms = step, layer, where, norms
        super().__init__(
            f"training diverged at step {step}: the {where} of layer {layer} is no longer finite "
            f"(inf or NaN); lower the learning rate or use init=he"
        )


@dataclass
class LayerNorms:
    """Root-mean-square of each layer's output (forward) and of dL/d(output) (backward), by layer name."""

    activation: dict[str, float] = field(default_factory=dict)
    gradient: dict[str, float] = field(default_factory=dict)


def rms(a: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        scale = float(np.max(np.abs(a))) if a.size else 0.0
        if not np.isfinite(scale):
            return scale
        if scale == 0.0:
            return 0.0
        return scale * float(np.sqrt(np.mean(np.square(a / scale))))  # no overflow from squaring huge values


class MLP:
    """in_features -> hidden... -> out_features logits; `training_step(x, y)` does one SGD step."""

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        init: Init = "he",
        *,
        dtype: str | type = np.float64,
        seed: int | np.random.Generator = 0,
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        hidden = list(hidden)
        if any(int(h) < 1 for h in hidden) or in_features < 1 or out_features < 1:
            raise UserError(
                f"MLP sizes must be positive: in_features={in_features}, hidden={hidden}, "
                f"out_features={out_features}; e.g. hidden=[30,30]"
            )
        self.dtype = np.dtype(DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype)
        if self.dtype not in (np.float32, np.float64):
            raise UserError(f"dtype {self.dtype} is not supported; choose float64 or float32")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.in_features, self.hidden, self.out_features = in_features, hidden, out_features
        self.layers: list[Layer] = []
        width = in_features
        for i, h in enumerate(hidden, start=1):
            self.layers.append(Linear(width, h, init=init, rng=rng, dtype=self.dtype, name=f"fc{i}"))
            self.layers.append(make_activation(activation, f"act{i}"))
            width = h
        self.layers.append(Linear(width, out_features, init=init, rng=rng, dtype=self.dtype, name="out"))
        self.loss_fn = SoftmaxCrossEntropy()
        self.optimizer = SGD(self.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.steps = 0
        self._outputs: list[np.ndarray] = []
        self._grads: list[np.ndarray] = []

    # ---- the network --------------------------------------------------------------------------
    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [pair for layer in self.layers for pair in layer.parameters()]

    def linear_layers(self) -> list[Linear]:
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def check_input(self, x: np.ndarray) -> np.ndarray:
        """(B, in_features) finite values in the model's dtype, or UserError."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise UserError(
                f"layer {self.layers[0].describe()} expects input of shape (batch, {self.in_features}), "
                f"got {tuple(x.shape)}"
            )
        if not np.isfinite(x).all():
            row = int(np.argwhere(~np.isfinite(x))[0, 0])
            raise UserError(
                f"the input holds NaN or inf (first in row {row} of the batch); "
                "clean or drop those examples before training"
            )
        return x.astype(self.dtype, copy=False)

    def forward(self, x: np.ndarray, remember: bool = True) -> np.ndarray:
        """Logits (B, out_features); with `remember`, every layer keeps what its backward needs."""
        h = self.check_input(x)
        outputs = []
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in self.layers:
                h = layer.forward(h, remember)
                outputs.append(h)
        self._outputs = outputs if remember else []
        return h

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """dL/dx (B, in_features) from dL/dlogits; fills every grad_weight and grad_bias."""
        grads = [grad]
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in reversed(self.layers[1:]):
                grad = layer.backward(grad)
                grads.append(grad)
            grad = self.layers[0].backward(grad)
        self._grads = grads[::-1]  # dL/d(output of layer i), in layer order
        return grad

    # ---- training -------------------------------------------------------------------------------
    def training_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """Forward, loss, backward, one optimizer step; return the batch loss (before the step)."""
        logits = self.forward(x)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = self.loss_fn.forward(logits, y)
        self.steps += 1  # bad input (UserError above) is not a step
        if not np.isfinite(loss):
            raise self._diverged("forward")
        with np.errstate(over="ignore", invalid="ignore"):
            self.backward(self.loss_fn.backward())
            finite = all(np.isfinite(np.sum(g)) or np.isfinite(g).all() for _, g in self.parameters())
        if not finite:
            raise self._diverged("backward")
        with np.errstate(over="ignore", invalid="ignore"):
            self.optimizer.step()
        return loss

    def _diverged(self, where: str) -> Diverged:
        norms = self.layer_norms()
        if where == "forward":
            bad = next(
                (layer for layer, out in zip(self.layers, self._outputs, strict=True) if not np.isfinite(out).all()),
                None,
            )
            name, part = (bad.describe(), "output") if bad else ("loss (SoftmaxCrossEntropy)", "value")
        else:
            pairs = list(zip(self.layers, self._grads, strict=True))[::-1]  # the backward pass visits layers in reverse
            bad = next((layer for layer, g in pairs if not np.isfinite(g).all()), None)
            if bad is None:  # the input gradient of the first layer is not kept; its weight gradient is
                bad = self.layers[0]
            name, part = bad.describe(), "gradient"
        return Diverged(self.steps, name, part, {"activation": norms.activation, "gradient": norms.gradient})

    def layer_norms(self) -> LayerNorms:
        """RMS of each layer's output and of the loss gradient with respect to it, at the last step."""
        norms = LayerNorms()
        # strict=False: nothing is kept before the first step, nor by a forward that did not remember
        for layer, out in zip(self.layers, self._outputs, strict=False):
            norms.activation[layer.name] = rms(out)
        for layer, g in zip(self.layers, self._grads, strict=False):
            norms.gradient[layer.name] = rms(g)
        return norms

    # ---- evaluation -----------------------------------------------------------------------------
    def predict_proba(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        from mlplab.scratch.layers import softmax

        return (
            np.concatenate(
                [softmax(self.forward(x[i : i + batch_size], remember=False)) for i in range(0, len(x), batch_size)]
            )
            if len(x)
            else np.zeros((0, self.out_features))
        )

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 4096) -> dict[str, float]:
        """Mean loss and accuracy over (x, y), without remembering anything."""
        total, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            logits = self.forward(x[i : i + batch_size], remember=False)
            yb = y[i : i + batch_size]
            total += SoftmaxCrossEntropy().forward(logits, yb) * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
        n = max(len(x), 1)
        return {"loss": total / n, "accuracy": correct / n}

    def state(self) -> dict[str, np.ndarray]:
        """Weights by torch-style name (fc1.weight, ..., out.bias)."""
        return {f"{layer.name}.{k}": getattr(layer, k) for layer in self.linear_layers() for k in ("weight", "bias")}
