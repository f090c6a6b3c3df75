"""Losses with hand-written gradients: `forward(pred, target) -> float`, then `backward() -> dL/dpred`.

All three average over the batch as torch's defaults do (MSE over every element).
"""

from __future__ import annotations

import numpy as np

from mlplab.errors import UserError
from mlplab.scratch.layers import log_softmax, softmax


def check_labels(y: np.ndarray, batch: int, num_classes: int, where: str) -> np.ndarray:
    """Integer labels (B,) in 0..K-1, or UserError naming what is wrong."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != batch:
        raise UserError(f"{where}: labels must have shape ({batch},) to match the batch, got {tuple(y.shape)}")
    if not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)][0]
        raise UserError(
            f"{where}: label {int(bad)} is out of range for {num_classes} classes; "
            f"labels must be in 0..{num_classes - 1}"
        )
    return y


class CrossEntropy:
    """L = -mean_i log p[i, y_i] on probabilities p (B, K);  dL/dp[i, y_i] = -1 / (B p[i, y_i])."""

    name = "CrossEntropy"

    def forward(self, probs: np.ndarray, y: np.ndarray) -> float:
        y = check_labels(y, len(probs), probs.shape[1], self.name)
        self._probs, self._y = probs, y
        picked = probs[np.arange(len(y)), y]  # (B,)
        return float(-np.mean(np.log(picked)))

    def backward(self) -> np.ndarray:
        probs, y = self._probs, self._y
        rows = np.arange(len(y))
        grad = np.zeros_like(probs)  # (B, K)
        grad[rows, y] = -1.0 / (len(y) * probs[rows, y])
        return grad


class SoftmaxCrossEntropy:
    """Fused softmax + cross-entropy on logits z (B, K): L = mean_i (logsumexp z_i - z[i, y_i]);
    dL/dz = (softmax(z) - onehot(y)) / B, which never divides by a probability."""

    name = "SoftmaxCrossEntropy"

    def forward(self, logits: np.ndarray, y: np.ndarray) -> float:
        y = check_labels(y, len(logits), logits.shape[1], self.name)
        self._logits, self._y = logits, y
        logp = log_softmax(logits)  # (B, K)
        return float(-np.mean(logp[np.arange(len(y)), y]))

    def backward(self) -> np.ndarray:
        logits, y = self._logits, self._y
        grad = softmax(logits)  # (B, K)
        grad[np.arange(len(y)), y] -= 1.0
        grad /= len(y)
        return grad


class MSE:
    """L = mean over all elements of (pred - target)^2;  dL/dpred = 2 (pred - target) / N."""

    name = "MSE"

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        target = np.asarray(target)
        if target.shape != pred.shape:
            raise UserError(
                f"{self.name}: target shape {tuple(target.shape)} does not match prediction shape {tuple(pred.shape)}"
            )
        self._diff = pred - target
        return float(np.mean(self._diff * self._diff))

    def backward(self) -> np.ndarray:
        return 2.0 * self._diff / self._diff.size
