"""One-vs-rest MLPs: one sigmoid output per positive class, trained with binary cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.nn.inference import batched, evaluating
from mlplab.nn.mlp import mlp_layers
from mlplab.nn.per_example import PerExample
from mlplab.nn.registry import register_model


@register_model("OneVsRestMLP")
class OneVsRestMLP(nn.Module):
    """Output j answers "is this class positives[j]?"; one output is a binary classifier, K outputs are K of them."""

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        positives: list[int],
        activation: str = "leaky_relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.spec = {
            "class": "OneVsRestMLP",
            "in_features": in_features,
            "hidden": list(hidden),
            "positives": list(positives),
            "activation": activation,
            "dropout": dropout,
        }
        self.net = mlp_layers(in_features, hidden, len(positives), activation=activation, dropout=dropout)
        self.register_buffer("positives", torch.tensor(positives, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, P) logits; sigmoid gives P(class == positives[j])

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return (y[:, None] == self.positives).float()  # (B, P)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor | PerExample]:
        x, y = batch
        logits, t = self(x), self.targets(y)
        # binary cross-entropy of sigmoid(logits), computed from the logits for numerical stability
        bce = F.binary_cross_entropy_with_logits(logits, t)
        return {"loss": bce, "accuracy": PerExample(_binary_correct, logits, t)}

    def hidden_layer_names(self) -> list[str]:
        return [name for name, _ in self.net.named_children() if name.startswith("act")]

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Sigmoid outputs (N, P): P(class == positives[j]), in eval mode, in batches."""
        with evaluating(self):
            return batched(lambda b: self(b).sigmoid(), x, batch_size)


def _binary_correct(logits: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(B,) the share of an example's P binary decisions that are right."""
    return ((logits > 0) == (t > 0.5)).float().mean(1)
