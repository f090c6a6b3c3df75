"""A convolutional autoencoder: Conv -> ReLU -> MaxPool three times (28 -> 14 -> 7 -> 3), and three decoders.

- "unpool":    max-unpooling with the encoder's pooling indices, then a 3x3 convolution, per stage;
- "transpose": a stride-2 transposed convolution per stage (no indices);
- "both":      per stage, the unpooled map and a transposed-convolution map side by side, mixed by a 3x3 conv.

Odd sides (7 -> 3 pooled) are undone with the encoder's recorded sizes: `max_unpool2d(output_size=...)` and a
transposed convolution whose padding gives 2n + 1 (odd) or 2n (even) from n. The unpooling decoders receive the
pooling indices as side information, so their bottleneck is wider than the 16x3x3 code alone.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.nn.inference import batched, evaluating
from mlplab.nn.registry import register_model

DECODERS = ("unpool", "transpose", "both")
OUTPUT_BIAS = -2.0


def pooled_sides(side: int, stages: int) -> list[int]:
    """Sides after each 2x2 max pool (floor): 28 -> [28, 14, 7, 3]."""
    sides = [side]
    for _ in range(stages):
        sides.append(sides[-1] // 2)
    return sides


def transpose_up(c_in: int, c_out: int, n: int, m: int) -> nn.ConvTranspose2d:
    """A 3x3 stride-2 transposed conv from side n to m (m = 2n + 1 or 2n): out = 2n + 1 - 2p + output_padding."""
    if m == 2 * n + 1:
        return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=0)
    if m == 2 * n:
        return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
    raise ValueError(f"cannot go from side {n} to {m} with one stride-2 step")


class ConvEncoder(nn.Module):
    """[conv 3x3 (pad 1) -> ReLU -> max pool 2 (with indices)] per entry of `channels`."""

    def __init__(self, in_channels: int, channels: list[int]):
        super().__init__()
        widths = [in_channels, *channels]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in itertools.pairwise(widths))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Size]]:
        """Code (B, C, 3, 3), the pooling indices per stage and the pre-pool sizes per stage."""
        indices, sizes = [], []
        for conv in self.convs:
            h = F.relu(conv(x))  # (B, c, s, s)
            sizes.append(h.shape[-2:])
            x, idx = F.max_pool2d(h, 2, return_indices=True)  # (B, c, s // 2, s // 2)
            indices.append(idx)
        return x, indices, sizes


class ConvDecoder(nn.Module):
    """Mirror of the encoder; `kind` picks how each stage upsamples (see the module docstring)."""

    def __init__(self, kind: str, in_channels: int, channels: list[int], side: int):
        super().__init__()
        if kind not in DECODERS:
            raise ValueError(f"decoder {kind!r} must be one of {DECODERS}")
        self.kind = kind
        sides = pooled_sides(side, len(channels))[::-1]  # e.g. [3, 7, 14, 28]
        widths = [*channels[::-1], in_channels]  # e.g. [16, 16, 8, 1]
        self.ups = nn.ModuleList()
        self.mix = nn.ModuleList()
        for i, (a, b) in enumerate(itertools.pairwise(widths)):
            n, m = sides[i], sides[i + 1]
            if kind == "transpose":
                self.ups.append(transpose_up(a, b, n, m))
            elif kind == "unpool":
                self.mix.append(nn.Conv2d(a, b, 3, padding=1))
            else:  # both: a transposed-conv path of the same width as the unpooled map, then a 3x3 mix
                self.ups.append(transpose_up(a, a, n, m))
                self.mix.append(nn.Conv2d(2 * a, b, 3, padding=1))

    def forward(self, code: torch.Tensor, indices: list[torch.Tensor], sizes: list[torch.Size]) -> torch.Tensor:
        x = code  # (B, C, 3, 3)
        stages = len(sizes)
        for i in range(stages):
            j = stages - 1 - i  # the encoder stage being undone
            if self.kind == "transpose":
                x = self.ups[i](x)
            else:
                up = F.max_unpool2d(x, indices[j], 2, output_size=sizes[j])  # (B, c, s, s), zeros off the maxima
                if self.kind == "both":
                    up = torch.cat([up, self.ups[i](x)], 1)  # (B, 2c, s, s)
                x = self.mix[i](up)
            x = torch.sigmoid(x) if i == stages - 1 else F.relu(x)
        return x  # (B, in_channels, side, side) in [0, 1]


@register_model("ConvAutoencoder")
class ConvAutoencoder(nn.Module):
    """Conv encoder (channels e.g. [8, 16, 16]) and one of the three decoders; sigmoid output, MSE loss."""

    def __init__(
        self, in_channels: int = 1, side: int = 28, channels: list[int] = (8, 16, 16), decoder: str = "unpool"
    ):
        super().__init__()
        if min(pooled_sides(side, len(channels))) < 1:
            raise ValueError(f"side {side} is too small for {len(channels)} pooling stages")
        self.spec = {
            "class": "ConvAutoencoder",
            "in_channels": in_channels,
            "side": side,
            "channels": list(channels),
            "decoder": decoder,
        }
        self.encoder = ConvEncoder(in_channels, list(channels))
        self.decoder = ConvDecoder(decoder, in_channels, list(channels), side)
        # Start the output near a dark background (sigmoid(-2) = 0.12, about MNIST's mean pixel): from the
        # default 0.5 the first Adam steps overshoot into a saturated all-black output whose MSE gradient
        # vanishes, and training stalls at the mean-image error (seen with every decoder on MNIST).
        last = self.decoder.ups[-1] if decoder == "transpose" else self.decoder.mix[-1]
        with torch.no_grad():
            last.bias.fill_(OUTPUT_BIAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code, indices, sizes = self.encoder(x)
        return self.decoder(code, indices, sizes)

    def reconstruct(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """self(x) in eval mode, in batches: (N, C, H, W)."""
        with evaluating(self):
            return batched(self, x, batch_size)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, _ = batch
        mse = F.mse_loss(self(x), x)  # mean squared error per pixel
        return {"loss": mse, "mse": mse}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
