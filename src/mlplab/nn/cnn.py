"""A small convolutional classifier: a judge of another architecture than the MLPs it judges."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from mlplab.nn.inference import batched, evaluating
from mlplab.nn.mlp import classification_loss
from mlplab.nn.per_example import PerExample
from mlplab.nn.registry import register_model


@register_model("SmallCNN")
class SmallCNN(nn.Module):
    """[conv3x3 -> ReLU -> maxpool2] x 2 -> linear -> ReLU -> dropout -> linear, on (B, C, H, W) images."""

    monitor = ("accuracy", "max")

    def __init__(
        self,
        in_channels: int,
        side: int,
        num_classes: int,
        channels: tuple[int, int] | list[int] = (16, 32),
        hidden: int = 64,
        dropout: float = 0.25,
    ):
        super().__init__()
        c1, c2 = channels
        self.spec = {
            "class": "SmallCNN",
            "in_channels": in_channels,
            "side": side,
            "num_classes": num_classes,
            "channels": [c1, c2],
            "hidden": hidden,
            "dropout": dropout,
        }
        flat = c2 * (side // 4) ** 2
        self.net = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(in_channels, c1, 3, padding=1)),
                    ("act1", nn.ReLU()),
                    ("pool1", nn.MaxPool2d(2)),
                    ("conv2", nn.Conv2d(c1, c2, 3, padding=1)),
                    ("act2", nn.ReLU()),
                    ("pool2", nn.MaxPool2d(2)),
                    ("flatten", nn.Flatten()),
                    ("fc", nn.Linear(flat, hidden)),
                    ("act3", nn.ReLU()),
                    ("drop", nn.Dropout(dropout)),
                    ("out", nn.Linear(hidden, num_classes)),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, num_classes) logits

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor | PerExample]:
        x, y = batch
        return classification_loss(self(x), y)

    def predict(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Class probabilities (N, K), in eval mode, in batches."""
        with evaluating(self):
            return batched(lambda b: self(b).softmax(1), x, batch_size)
