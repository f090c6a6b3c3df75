"""Configurable MLPs. Each model owns its loss: `loss(batch) -> {"loss": ..., other scalars}`."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.errors import UserError
from mlplab.nn.inference import batched, evaluating
from mlplab.nn.per_example import PerExample
from mlplab.nn.registry import register_model

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
}
NORMS = {"none": None, "batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


def mlp_layers(
    in_features: int,
    hidden: list[int],
    out_features: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    norm: str = "none",
    input_dropout: float = 0.0,
) -> nn.Sequential:
    """flatten -> [fc_i -> norm_i -> act_i -> drop_i] * len(hidden) -> out, with stable names for hooks."""
    if activation not in ACTIVATIONS:
        raise UserError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    if norm not in NORMS:
        raise UserError(f"unknown norm {norm!r}; choose one of: {', '.join(NORMS)}")
    if not hidden or any(h < 1 for h in hidden):
        raise UserError(f"hidden={hidden} must be a non-empty list of positive sizes, e.g. hidden=[256,128]")
    layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
    if input_dropout > 0:
        layers.append(("drop0", nn.Dropout(input_dropout)))
    width = in_features
    for i, h in enumerate(hidden, start=1):
        layers.append((f"fc{i}", nn.Linear(width, h)))
        if NORMS[norm] is not None:
            layers.append((f"norm{i}", NORMS[norm](h)))
        layers.append((f"act{i}", ACTIVATIONS[activation]()))
        if dropout > 0:
            layers.append((f"drop{i}", nn.Dropout(dropout)))
        width = h
    layers.append(("out", nn.Linear(width, out_features)))
    return nn.Sequential(OrderedDict(layers))


def classification_loss(
    logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0
) -> dict[str, torch.Tensor | PerExample]:
    """Cross-entropy on logits (B, K) (against labels smoothed towards uniform by `label_smoothing`) and the
    accuracy: the loss of every classifier here. The accuracy is computed when read (`PerExample`): a training
    step then launches no kernels for it, which at batch 16 is a few percent of the step."""
    return {
        "loss": F.cross_entropy(logits, y, label_smoothing=label_smoothing),
        "accuracy": PerExample(_correct, logits, y),
    }


def _correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B,) True where the largest logit is the label's."""
    return logits.argmax(1) == y


@register_model("MLPClassifier")
class MLPClassifier(nn.Module):
    """An MLP over flattened inputs whose loss is cross-entropy on the logits."""

    monitor = ("accuracy", "max")

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        num_classes: int,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str = "none",
        input_dropout: float = 0.0,
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        self.spec = {
            "class": "MLPClassifier",
            "in_features": in_features,
            "hidden": list(hidden),
            "num_classes": num_classes,
            "activation": activation,
            "dropout": dropout,
            "norm": norm,
            "input_dropout": input_dropout,
        }
        if label_smoothing:  # only when used, so that older checkpoints' specs still match
            self.spec["label_smoothing"] = label_smoothing
        self.label_smoothing = label_smoothing
        self.net = mlp_layers(
            in_features,
            hidden,
            num_classes,
            activation=activation,
            dropout=dropout,
            norm=norm,
            input_dropout=input_dropout,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, num_classes) logits

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor | PerExample]:
        x, y = batch
        # self.net, not self: one module call less per step (no hooks are ever set on the wrapper itself)
        return classification_loss(self.net(x), y, self.label_smoothing)

    def hidden_layer_names(self) -> list[str]:
        """Names of the modules whose outputs are the hidden representations (after activation)."""
        return [name for name, _ in self.net.named_children() if name.startswith("act")]

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Class probabilities (N, K), in eval mode, in batches."""
        with evaluating(self):
            return batched(lambda b: self(b).softmax(1), x, batch_size)
