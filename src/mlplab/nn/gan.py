"""An MLP GAN: a discriminator, the generator that mirrors it, and one adversarial step for both schedules.

The discriminator keeps logits; its sigmoid is P(real). Losses are BCE-with-logits, which never takes the
log of a saturated sigmoid. The generator's loss is the non-saturating one: it asks D to say "real" for
its fakes (-log D(G(z))), which keeps its gradient alive while D still wins easily.

What keeps an MLP GAN honest, each off by default and switched on by its own argument: an exponential moving
average of the generator's weights, which is what samples (`g_ema`, Yazici et al. 2019); two time-scale
learning rates (`lr_d`/`lr_g` in the config, Heusel et al. 2017); the R1 gradient penalty on real images
(`r1`, Mescheder et al. 2018) or spectral normalisation of D's layers (`spectral_norm`, Miyato et al. 2018);
and instance noise on D's inputs, annealed to zero (`instance_noise`, Sønderby et al. 2017).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.errors import UserError
from mlplab.nn.registry import register_model

SLOPE = 0.2  # LeakyReLU slope of both networks (the usual GAN choice; 0.01 leaves D's gradient too sparse)
OUTPUTS = {"minus_one_one": nn.Tanh, "unit": nn.Sigmoid}  # data normalisation -> generator output activation
SCHEDULES = ("alternating", "lab")
BETAS = {"alternating": (0.5, 0.999), "lab": (0.9, 0.999)}  # lab: plain Adam with a low learning rate


def leaky_stack(sizes: list[int], dropout: float = 0.0) -> list[tuple[str, nn.Module]]:
    """[fc_i -> LeakyReLU_i -> (dropout_i)] between consecutive sizes, with stable names for hooks."""
    layers: list[tuple[str, nn.Module]] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        layers += [(f"fc{i}", nn.Linear(a, b)), (f"act{i}", nn.LeakyReLU(SLOPE))]
        if dropout > 0:
            layers.append((f"drop{i}", nn.Dropout(dropout)))
    return layers


class Discriminator(nn.Module):
    """flatten -> LeakyReLU MLP -> one logit; sigmoid(logit) = P(the image is real). With `spectral_norm`, every
    linear layer's weight is divided by its largest singular value (torch's parametrisation, one power
    iteration per training forward)."""

    def __init__(self, in_features: int, hidden: list[int], spectral_norm: bool = False):
        super().__init__()
        self.sizes = [in_features, *hidden, 1]
        self.net = nn.Sequential(
            OrderedDict(
                [("flatten", nn.Flatten()), *leaky_stack(self.sizes[:-1]), ("out", nn.Linear(self.sizes[-2], 1))]
            )
        )
        if spectral_norm:
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)  # (B,) logits


class Generator(nn.Module):
    """The discriminator's mirror: latent -> reversed hidden sizes (LeakyReLU) -> image in the data's range."""

    def __init__(
        self,
        latent: int,
        hidden: list[int],
        image_shape: list[int],
        output: str = "minus_one_one",
        dropout: float = 0.0,
    ):
        super().__init__()
        if output not in OUTPUTS:
            raise UserError(
                f"generator output {output!r} has no matching activation; choose {' or '.join(OUTPUTS)} normalisation"
            )
        self.image_shape = tuple(image_shape)
        pixels = math.prod(image_shape)
        self.sizes = [latent, *hidden, pixels]
        self.net = nn.Sequential(
            OrderedDict(
                [
                    *leaky_stack(self.sizes[:-1], dropout),
                    ("out", nn.Linear(self.sizes[-2], pixels)),
                    ("squash", OUTPUTS[output]()),
                ]
            )
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.image_shape)  # (B, C, H, W)


@register_model("GAN")
class GAN(nn.Module):
    """Discriminator and mirrored generator, with their optimizers and one adversarial training step."""

    monitor = ("loss", "min")

    def __init__(
        self,
        image_shape: list[int],
        d_hidden: list[int],
        latent: int = 100,
        output: str = "minus_one_one",
        g_dropout: float = 0.0,
        schedule: str = "alternating",
        n_d: int = 1,
        n_g: int = 1,
        g_ema: float = 0.0,
        r1: float = 0.0,
        spectral_norm: bool = False,
        instance_noise: float = 0.0,
        noise_steps: int = 0,
    ):
        super().__init__()
        if not d_hidden or any(h < 1 for h in d_hidden):
            raise UserError(f"d_hidden={d_hidden} must be a non-empty list of positive sizes, e.g. d_hidden=[512,256]")
        if schedule not in SCHEDULES:
            raise UserError(f"unknown GAN schedule {schedule!r}; choose {' or '.join(SCHEDULES)}")
        self.spec = {
            "class": "GAN",
            "image_shape": list(image_shape),
            "d_hidden": list(d_hidden),
            "latent": latent,
            "output": output,
            "g_dropout": g_dropout,
            "schedule": schedule,
            "n_d": n_d,
            "n_g": n_g,
        }
        options = {
            "g_ema": g_ema,
            "r1": r1,
            "spectral_norm": spectral_norm,
            "instance_noise": instance_noise,
            "noise_steps": noise_steps if instance_noise else 0,
        }
        self.spec |= {k: v for k, v in options.items() if v}  # only when used: older checkpoints' specs still match
        self.latent, self.schedule, self.n_d, self.n_g = latent, schedule, n_d, n_g
        self.r1, self.instance_noise, self.noise_steps = r1, instance_noise, noise_steps
        self.discriminator = Discriminator(math.prod(image_shape), list(d_hidden), spectral_norm)
        self.generator = Generator(latent, list(reversed(d_hidden)), image_shape, output, g_dropout)
        self.generator_ema = None  # what samples, when g_ema is on: the average of the generator's weights
        if g_ema:
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            self.generator_ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(g_ema))
            self.generator_ema.requires_grad_(False)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), (n, latent), on the model's device (drawn on the CPU so a seed means the same everywhere)."""
        z = torch.randn(n, self.latent, generator=generator)
        return z.to(next(self.parameters()).device)

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples: the moving average of its weights when `g_ema` is on."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def sample(self, z: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """G(z) in eval mode (no dropout), (N, C, H, W), from the averaged weights when `g_ema` is on."""
        g = self.sampler
        was = g.training
        g.eval()
        out = torch.cat([g(z[i : i + batch_size]) for i in range(0, len(z), batch_size)])
        g.train(was)
        return out

    # ---- the two-optimizer protocol ---------------------------------------------------------------
    def configure_optimizers(self, cfg) -> dict[str, torch.optim.Optimizer]:
        """Adam for each network; betas (0.5, 0.999) for the alternating schedule, Adam's defaults for the lab's."""
        betas = BETAS[self.schedule]
        lr_d, lr_g = getattr(cfg, "lr_d", None) or cfg.lr, getattr(cfg, "lr_g", None) or cfg.lr
        return {
            "d": torch.optim.Adam(self.discriminator.parameters(), lr=lr_d, betas=betas),
            "g": torch.optim.Adam(self.generator.parameters(), lr=lr_g, betas=betas),
        }

    def noise_sigma(self, step: int) -> float:
        """The instance noise's standard deviation at `step`: `instance_noise`, falling linearly to 0 at
        `noise_steps`."""
        if not self.instance_noise or step >= self.noise_steps:
            return 0.0
        return self.instance_noise * (1 - step / max(self.noise_steps, 1))

    def d_step(
        self, real: torch.Tensor, opt: torch.optim.Optimizer, generator: torch.Generator, step: int = 0
    ) -> dict[str, torch.Tensor]:
        """One discriminator update on `real` and as many detached fakes: BCE towards 1 for real, 0 for fake
        (plus the R1 penalty r1/2 * E||grad_x D(x)||^2 on the real images when `r1` is on)."""
        fake = self.generator(self.noise(len(real), generator)).detach()  # no gradient reaches G
        inputs = torch.cat([real, fake])
        if sigma := self.noise_sigma(step):
            inputs = inputs + sigma * torch.randn(inputs.shape, generator=generator).to(inputs.device)
        if self.r1:
            inputs = inputs.detach().requires_grad_(True)
        logits = self.discriminator(inputs)  # (2B,)
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(logits.device)
        if self.schedule == "lab":  # the lab: one BCE over the mixed batch of 100 real and 100 fake
            loss = F.binary_cross_entropy_with_logits(logits, target)
        else:  # the usual form: mean over the real half plus mean over the fake half
            loss = 2 * F.binary_cross_entropy_with_logits(logits, target)  # same halves, so 2 x the mixed mean
        out = {}
        if self.r1:
            (grad,) = torch.autograd.grad(logits[: len(real)].sum(), inputs, create_graph=True)
            penalty = grad[: len(real)].flatten(1).pow(2).sum(1).mean()
            loss = loss + self.r1 / 2 * penalty
            out["r1_penalty"] = penalty.detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        d = logits.detach().sigmoid()
        return {"loss_d": loss.detach(), "d_real": d[: len(real)].mean(), "d_fake": d[len(real) :].mean(), **out}

    def g_step(self, n: int, opt: torch.optim.Optimizer, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """One generator update: non-saturating loss -log D(G(z)), i.e. BCE of D's verdict towards "real"."""
        self.discriminator.requires_grad_(False)  # gradients flow through D to G, but D's weights get none
        try:
            logits = self.discriminator(self.generator(self.noise(n, generator)))  # (n,)
            loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        finally:
            self.discriminator.requires_grad_(True)
        return {"loss_g": loss.detach()}

    def training_step(
        self,
        batch: tuple[torch.Tensor, torch.Tensor],
        optimizers: dict[str, torch.optim.Optimizer],
        step: int,
        generator: torch.Generator,
    ) -> dict[str, torch.Tensor]:
        """n_d D steps on n_d fresh slices of the real batch, then n_g G steps (1 and 1 for `alternating`)."""
        real, _ = batch
        n_d, n_g = (self.n_d, self.n_g) if self.schedule == "lab" else (1, 1)
        per_step = max(1, len(real) // n_d)
        logs: dict[str, list[torch.Tensor]] = {}
        for i in range(n_d):
            chunk = real[i * per_step : (i + 1) * per_step] if i < n_d - 1 else real[i * per_step :]
            batch = chunk if len(chunk) else real[:per_step]
            for k, v in self.d_step(batch, optimizers["d"], generator, step).items():
                logs.setdefault(k, []).append(v)
        for _ in range(n_g):
            for k, v in self.g_step(per_step, optimizers["g"], generator).items():
                logs.setdefault(k, []).append(v)
            if self.generator_ema is not None:
                self.generator_ema.update_parameters(self.generator)
        out = {k: torch.stack(v).mean() for k, v in logs.items()}
        out["loss"] = out["loss_d"] + out["loss_g"]  # the Trainer's loss row; the two parts say more
        return out
