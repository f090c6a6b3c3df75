"""Dreams: optimise the input pixels of frozen classifiers towards an objective.

Objectives are small composable terms `(logits (B, K), pixels (B, C, H, W)) -> (B,)`, one loss per image,
so `cross_entropy(t) + 0.1 * l2() + 0.05 * total_variation()` reads like the formula. Transformations
(`jitter`) are applied to the pixels before the model sees them each step; post-steps (`blur`) act on the
pixels themselves between steps. Pixels live in [0, 1] (the valid range of real images) and are
normalised only on their way into the model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.data.augment import random_crop, small_affine

Term = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
PostStep = Callable[[torch.Tensor, int], torch.Tensor]


# ---- objectives --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Objective:
    """A per-image loss (B,) to minimise; `+` adds objectives, `*` weighs them (a number or a (B,) tensor)."""

    fn: Term
    name: str

    def __call__(self, logits: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        return self.fn(logits, pixels)

    def __add__(self, other: Objective) -> Objective:
        return Objective(lambda lg, px: self(lg, px) + other(lg, px), f"{self.name} + {other.name}")

    def __mul__(self, weight: float | torch.Tensor) -> Objective:
        label = f"{weight:g}" if isinstance(weight, (int, float)) else "λ"
        return Objective(lambda lg, px: weight * self(lg, px), f"{label}·{self.name}")

    __rmul__ = __mul__


def cross_entropy(targets: torch.Tensor) -> Objective:
    """-log softmax(logits)[target], per image; targets (B,)."""
    return Objective(lambda lg, px: F.cross_entropy(lg, targets, reduction="none"), "ce")


def kl_to(target: torch.Tensor) -> Objective:
    """KL(target || softmax(logits)) = Σ_k t_k (log t_k − log q_k), per image; target (B, K), 0·log 0 = 0."""
    entropy_term = torch.xlogy(target, target).sum(1)  # (B,)
    return Objective(lambda lg, px: entropy_term - (target * lg.log_softmax(1)).sum(1), "kl")


def l2() -> Objective:
    """mean(x²) over each image's pixels: pulls pixels towards black."""
    return Objective(lambda lg, px: px.pow(2).flatten(1).mean(1), "l2")


def total_variation() -> Objective:
    """Mean absolute difference between neighbouring pixels (rows and columns), per image."""

    def tv(lg: torch.Tensor, px: torch.Tensor) -> torch.Tensor:
        dy = (px[..., 1:, :] - px[..., :-1, :]).abs().flatten(1).mean(1)
        dx = (px[..., :, 1:] - px[..., :, :-1]).abs().flatten(1).mean(1)
        return dy + dx

    return Objective(tv, "tv")


# ---- transformations and post-steps ----------------------------------------------------------------
def jitter(pixels: int) -> Transform:
    """Shift each image by up to `pixels` in x and y (black fill) before the model sees it."""
    return random_crop(pixels, fill=0.0)


def rotate_zoom(degrees: float, zoom: float) -> Transform:
    """Rotate each image by up to ±`degrees` and scale it by 1 ± `zoom` (black fill) before the model sees it."""
    return small_affine(degrees=degrees, translate=0.0, scale=(1 - zoom, 1 + zoom), fill=0.0)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(2.5 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()  # (2r+1,)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W), edges replicated."""
    k = gaussian_kernel(sigma).to(x)
    r, c = len(k) // 2, x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def blur(sigma: float, every: int = 1) -> PostStep:
    """Blur the pixels every `every` steps (the image keeps only what survives smoothing)."""
    return lambda px, step: gaussian_blur(px, sigma) if step % every == 0 else px


# ---- models ----------------------------------------------------------------------------------------
def freeze(model: nn.Module) -> nn.Module:
    """Eval mode and no weight gradients: dreams never touch the classifier."""
    model.eval()
    model.requires_grad_(False)
    return model


def pixel_forward(models: Sequence[nn.Module], normalize: Callable[[torch.Tensor], torch.Tensor]):
    """pixels (B, C, H, W) -> logits (B, K); an ensemble gives the mean of its members' log-probabilities."""
    if len(models) == 1:
        model = models[0]
        return lambda px: model(normalize(px))
    return lambda px: torch.stack([m(normalize(px)).log_softmax(1) for m in models]).mean(0)


# ---- the loop --------------------------------------------------------------------------------------
@dataclass
class DreamTrace:
    pixels: torch.Tensor  # (B, C, H, W) final images in [0, 1]
    probs: torch.Tensor  # (T, B, K) class probabilities of the image at each step (as the model saw it)
    frames: torch.Tensor  # (F, B, C, H, W) snapshots
    frame_steps: torch.Tensor  # (F,) step of each snapshot
    steps: int  # steps taken
    seconds: float


def dream(
    forward: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    objective: Objective,
    *,
    steps: int,
    lr: float = 0.05,
    transforms: Sequence[Transform] = (),
    post: Sequence[PostStep] = (),
    stop: Callable[[torch.Tensor], torch.Tensor] | None = None,
    check_every: int = 10,
    frame_every: int = 0,
    generator: torch.Generator | None = None,
    anneal: bool = False,
) -> DreamTrace:
    """Adam on the pixels, clamped to [0, 1] after every step; stops early when `stop(probs)` is true.

    `anneal` lowers the learning rate along a cosine from `lr` to 0 over `steps` (to settle on a mixture
    instead of circling it).
    `stop` is checked every `check_every` steps only (each check waits for the device), on the probabilities
    of the step's image, which is then the final one. Only the pixels get gradients
    (`torch.autograd.grad` w.r.t. the input; the model's weights should be frozen).
    """
    generator = generator or torch.Generator().manual_seed(0)
    pixels = start.detach().clone().clamp_(0, 1).requires_grad_(True)
    optimizer = torch.optim.Adam([pixels], lr=lr)
    history, frames, frame_steps = [], [], []
    t0 = time.perf_counter()
    step = 0
    for step in range(steps + 1):
        seen = pixels
        for transform in transforms:
            seen = transform(seen, generator)
        logits = forward(seen)  # (B, K)
        history.append(logits.detach().softmax(1))
        if frame_every and step % frame_every == 0:
            frames.append(pixels.detach().clone())
            frame_steps.append(step)
        done = step == steps or (stop is not None and step % check_every == 0 and bool(stop(history[-1])))
        if done:
            break
        loss = objective(logits, pixels).sum()  # images are independent: each gets its own gradient
        (grad,) = torch.autograd.grad(loss, pixels)
        pixels.grad = grad
        if anneal:
            optimizer.param_groups[0]["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        optimizer.step()
        with torch.no_grad():
            value = pixels.detach()
            for fn in post:
                value = fn(value, step + 1)
            pixels.copy_(value.clamp_(0, 1))
    if frame_every and frame_steps[-1] != step:
        frames.append(pixels.detach().clone())
        frame_steps.append(step)
    seconds = time.perf_counter() - t0
    empty = torch.zeros((0, *start.shape))
    return DreamTrace(
        pixels.detach(),
        torch.stack(history),
        torch.stack(frames) if frames else empty,
        torch.tensor(frame_steps, dtype=torch.long),
        step,
        seconds,
    )


def target_reached(targets: torch.Tensor, confidence: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Stop rule: every image's target probability ≥ `confidence`."""
    return lambda probs: (probs.gather(1, targets[:, None]) >= confidence).all()


def mixture_reached(target: torch.Tensor, tolerance: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Stop rule: every probability within `tolerance` of the target distribution."""
    return lambda probs: (probs - target).abs().max() <= tolerance


@torch.no_grad()
def probabilities(forward: Callable[[torch.Tensor], torch.Tensor], pixels: torch.Tensor) -> torch.Tensor:
    """Class probabilities (B, K) of clean pixels."""
    return forward(pixels).softmax(1)


def fingerprint(models: list[nn.Module]) -> list[torch.Tensor]:
    """Copies of every weight, to prove later that dreaming left the models unchanged."""
    return [t.detach().clone() for m in models for t in m.state_dict().values()]


def unchanged(models: list[nn.Module], before: list[torch.Tensor]) -> bool:
    after = [t for m in models for t in m.state_dict().values()]
    return len(after) == len(before) and all(torch.equal(a, b) for a, b in zip(after, before, strict=True))
