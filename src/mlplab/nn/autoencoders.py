"""MLP autoencoders on pixels in [0, 1]: a sigmoid output that can reach that range, an MSE (or binary
cross-entropy) reconstruction loss, an optional L1 penalty on the code (sparse AE) and optional input
corruption (denoising AE)."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.nn.inference import batched, evaluating
from mlplab.nn.mlp import ACTIVATIONS
from mlplab.nn.noise import gaussian_noise, salt_and_pepper
from mlplab.nn.registry import register_model

NOISES = ("none", "gaussian", "salt_pepper")
RECON_LOSSES = ("mse", "bce")


def _stack(sizes: list[int], activation: str, last_activation: nn.Module | None, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        last = i == len(sizes) - 2
        if not last:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        elif last_activation is not None:
            layers.append(last_activation)
    return nn.Sequential(*layers)


@register_model("MLPAutoencoder")
class MLPAutoencoder(nn.Module):
    """in -> encoder[...] -> code -> decoder[...] -> in; the code layer's activation is `code_activation`.

    `recon_loss` is what training minimises ("mse" per pixel, or "bce": binary cross-entropy of the
    sigmoid output against the pixel values); `mse` per pixel is always reported. `l1` weighs the mean
    |code| (sparse AE); `noise`/`noise_level` corrupt the input during training only (denoising AE),
    the loss always compares with the clean image. `dropout` follows every hidden activation (not the code's)
    during training.
    """

    def __init__(
        self,
        in_features: int,
        encoder: list[int],
        code: int,
        decoder: list[int],
        activation: str = "relu",
        code_activation: str = "none",
        l1: float = 0.0,
        noise: str = "none",
        noise_level: float = 0.0,
        recon_loss: str = "mse",
        clip_noise: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        if noise not in NOISES:
            raise ValueError(f"noise={noise!r} must be one of {NOISES}")
        if recon_loss not in RECON_LOSSES:
            raise ValueError(f"recon_loss={recon_loss!r} must be one of {RECON_LOSSES}")
        self.spec = {
            "class": "MLPAutoencoder",
            "in_features": in_features,
            "encoder": list(encoder),
            "code": code,
            "decoder": list(decoder),
            "activation": activation,
            "code_activation": code_activation,
            "l1": l1,
            "noise": noise,
            "noise_level": noise_level,
            "recon_loss": recon_loss,
            "clip_noise": clip_noise,
            "dropout": dropout,
        }
        code_act = None if code_activation == "none" else ACTIVATIONS[code_activation]()
        self.encoder = _stack([in_features, *encoder, code], activation, code_act, dropout)
        self.decoder = _stack([code, *decoder, in_features], activation, nn.Sigmoid(), dropout)
        self.l1, self.noise, self.noise_level = l1, noise, noise_level
        self.recon_loss, self.clip_noise = recon_loss, clip_noise

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))  # (B, code), with gradients: what training uses

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder[:-1](z)  # (B, in_features), before the output sigmoid

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, in_features) in [0, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.code(x)).view_as(x)

    def encode(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Codes (N, code) in eval mode, in batches."""
        with evaluating(self):
            return batched(self.code, x, batch_size)

    def reconstruct(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """self(x) in eval mode, in batches: the shape of x."""
        with evaluating(self):
            return batched(self, x, batch_size)

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training-time corruption of a denoising AE (identity otherwise)."""
        if self.noise == "gaussian":
            return gaussian_noise(x, self.noise_level, generator, clip=self.clip_noise)
        if self.noise == "salt_pepper":
            return salt_and_pepper(x, self.noise_level, generator)
        return x

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, _ = batch
        source = self.corrupt(x) if self.training else x
        z = self.code(source)  # (B, code)
        logits = self.decode_logits(z).view_as(x)
        recon = torch.sigmoid(logits)
        mse = F.mse_loss(recon, x)  # mean squared error per pixel, against the clean image
        if self.recon_loss == "bce":
            recon_term = F.binary_cross_entropy_with_logits(logits, x)
            out = {"loss": recon_term, "mse": mse, "bce": recon_term}
        else:
            out = {"loss": mse, "mse": mse}
        if self.l1 > 0:
            penalty = z.abs().mean()
            out["loss"] = out["loss"] + self.l1 * penalty
            out["code_l1"] = penalty
        return out
