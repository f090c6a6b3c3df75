"""A judge: a classifier that labels images given as pixels in [0, 1], independent of the model whose
images it labels (decoded codes, dreams, generated samples)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mlplab.data import Normalization


@dataclass
class Judge:
    """A classifier, the input normalisation it was trained with, and where it came from (for the report)."""

    model: nn.Module
    normalization: Normalization
    source: str

    def predict(self, pixels: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Class probabilities (N, K) of images in [0, 1]."""
        return self.model.predict(self.normalization.apply(pixels), batch_size)

    def label(self, images: torch.Tensor, digit: torch.Tensor, confident: float) -> dict[str, torch.Tensor]:
        """Label, top probability, 'same digit' and 'confident digit' for images (..., C, H, W) vs digit (...)."""
        lead = images.shape[:-3]
        p = self.predict(images.flatten(0, len(lead) - 1)).view(*lead, -1)
        top, label = p.max(-1)
        return {"label": label, "top": top, "same": label == digit, "confident": top >= confident}
