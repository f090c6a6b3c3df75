"""The four tasks of `dreams` (dreams, hybrids, the L2 sweep, robust dreams scored by a judge); each writes its
arrays and tables to the run and returns its metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import torch
from torch import nn

from mlplab.analysis.constants import RECOGNISED
from mlplab.analysis.dreaming import (
    Objective,
    Transform,
    blur,
    cross_entropy,
    dream,
    jitter,
    kl_to,
    mixture_reached,
    pixel_forward,
    probabilities,
    rotate_zoom,
    target_reached,
    total_variation,
)
from mlplab.analysis.dreaming import l2 as l2_penalty
from mlplab.data import Dataset
from mlplab.errors import UserError
from mlplab.runs import Run


@dataclass
class Setup:
    cfg: Any  # the dreams experiment's config
    run: Run
    device: torch.device
    generator: torch.Generator
    ds: Dataset
    model: nn.Module  # the frozen classifier
    members: list[nn.Module]  # the ensemble for robust dreams (model first)
    judge: nn.Module | None

    def forward(self, models: list[nn.Module] | None = None):
        return pixel_forward(models or [self.model], self.ds.from_pixels)

    def targets(self) -> torch.Tensor:
        return torch.tensor(self.cfg.targets or range(self.ds.num_classes), dtype=torch.long, device=self.device)

    def noise(self, n: int) -> torch.Tensor:
        """n starting images of Gaussian noise in pixel space, clamped to [0, 1]."""
        z = torch.randn((n, *self.ds.input_shape), generator=self.generator)
        return (self.cfg.noise_mean + self.cfg.noise_std * z).clamp(0, 1).to(self.device)

    def name(self, c: int) -> str:
        return self.ds.classes[c]


def pick(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """probs[..., b, targets[b]]: (…, B, K) -> (…, B)."""
    index = targets.expand(*probs.shape[:-1]).unsqueeze(-1)
    return probs.gather(-1, index).squeeze(-1)


def dreams(s: Setup) -> dict:
    """Task 1: one image per target class from noise, until every one reaches the target confidence."""
    cfg, targets = s.cfg, s.targets()
    objective: Objective = cross_entropy(targets)
    if cfg.lambda_l2 > 0:
        objective = objective + cfg.lambda_l2 * l2_penalty()
    trace = dream(
        s.forward(),
        s.noise(len(targets)),
        objective,
        steps=cfg.steps,
        lr=cfg.dream_lr,
        stop=target_reached(targets, cfg.confidence),
        frame_every=cfg.frame_every,
        generator=s.generator,
    )
    final = probabilities(s.forward(), trace.pixels)  # (B, K)
    conf = pick(final, targets)  # (B,)
    s.run.save_arrays(
        "dreams",
        images=trace.pixels,
        targets=targets,
        confidences=pick(trace.probs, targets),
        probs=trace.probs,
        final_probs=final,
        frames=trace.frames,
        frame_steps=trace.frame_steps,
        classes=s.ds.classes,
        norm_mean=torch.tensor(s.ds.normalization.mean),
        norm_std=torch.tensor(s.ds.normalization.std),
    )
    s.run.save_table(
        "dreams",
        [
            {
                "class": s.name(t),
                "confidence": float(c),
                "runner_up": s.name(int(second)),
                "runner_up_p": float(p2),
                "mean_pixel": float(px.mean()),
            }
            for t, c, second, p2, px in zip(
                targets.tolist(), conf, *runner_up(final, targets), trace.pixels, strict=True
            )
        ],
    )
    reached = bool((conf >= cfg.confidence).all())
    return {
        "dreams_steps": trace.steps,
        "dreams_reached_target": reached,
        "dreams_min_confidence": float(conf.min()),
        "dreams_seconds": trace.seconds,
        "dreams_confidence": {s.name(t): float(c) for t, c in zip(targets.tolist(), conf, strict=True)},
        "dreams_mean_pixel": float(trace.pixels.mean()),
        "_pixels": trace.pixels,
    }


def runner_up(probs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    others = probs.clone()
    others[torch.arange(len(targets)), targets] = -1
    return others.argmax(1), others.max(1).values


def parse_hybrid(text: str) -> dict[int, float]:
    """'3:0.5,5:0.5' -> {3: 0.5, 5: 0.5}; UserError naming what is wrong."""
    weights: dict[int, float] = {}
    for part in text.split(","):
        cls, sep, weight = part.partition(":")
        try:
            c, w = int(cls), float(weight)
        except ValueError:
            c = w = None
        if not sep or c is None or not math.isfinite(w):
            raise UserError(f"config key 'hybrid': {part!r} is not class:weight; write e.g. hybrid=3:0.5,5:0.5")
        if c in weights:
            raise UserError(f"config key 'hybrid': class {c} appears twice; give each class once")
        if w < 0:
            raise UserError(f"config key 'hybrid': weight {w:g} of class {c} is negative; weights must be ≥ 0")
        weights[c] = w
    if abs(sum(weights.values()) - 1) > 1e-6:
        raise UserError(
            f"config key 'hybrid': weights sum to {sum(weights.values()):g}, not 1; e.g. hybrid=3:0.5,5:0.5"
        )
    if len([w for w in weights.values() if w > 0]) < 2:
        raise UserError("config key 'hybrid': a hybrid needs at least two classes with weight > 0")
    return weights


def hybrid_targets(s: Setup) -> tuple[torch.Tensor, list[str]]:
    """(P, K) target distributions: every pair of classes at 50/50, then the asked `hybrid`, if any."""
    k = s.ds.num_classes
    rows, labels = [], []
    for a, b in combinations(range(k), 2):
        t = torch.zeros(k)
        t[[a, b]] = 0.5
        rows.append(t)
        labels.append(f"{s.name(a)}+{s.name(b)}")
    if s.cfg.hybrid:
        t = torch.zeros(k)
        weights = parse_hybrid(s.cfg.hybrid)
        for c, w in weights.items():
            t[c] = w
        rows.append(t)
        labels.append(",".join(f"{s.name(c)}:{w:g}" for c, w in weights.items()))  # as asked, by class name
    return torch.stack(rows).to(s.device), labels


def hybrids(s: Setup) -> dict:
    """Task 2: images whose class probabilities match a mixture, by KL divergence to it."""
    cfg = s.cfg
    target, labels = hybrid_targets(s)
    trace = dream(
        s.forward(),
        s.noise(len(target)),
        kl_to(target),
        steps=cfg.steps,
        lr=cfg.dream_lr,
        stop=mixture_reached(target, cfg.hybrid_tolerance / 4),
        generator=s.generator,
        anneal=True,
    )  # a constant step circles a mixture of steep logits instead of settling on it
    final = probabilities(s.forward(), trace.pixels)  # (P, K)
    deviation = (final - target).abs().max(1).values  # (P,)
    custom = bool(cfg.hybrid)
    s.run.save_arrays(
        "hybrids",
        images=trace.pixels,
        target=target,
        probs=final,
        deviation=deviation,
        labels=labels,
        custom=torch.tensor(custom),
        classes=s.ds.classes,
    )
    s.run.save_table(
        "hybrids",
        [
            {
                "mixture": lab,
                "achieved": " ".join(
                    f"{s.name(c)}:{float(final[i, c]):.3f}" for c in range(s.ds.num_classes) if target[i, c] > 0
                ),
                "max_deviation": float(deviation[i]),
            }
            for i, lab in enumerate(labels)
        ],
    )
    pairs = deviation[: len(deviation) - custom]
    within = int((pairs <= cfg.hybrid_tolerance).sum())
    metrics = {
        "hybrid_max_deviation": float(deviation.max()),
        "hybrid_pairs_within_tolerance": within,
        "hybrid_pairs": len(pairs),
        "hybrid_steps": trace.steps,
    }
    if custom:
        metrics["hybrid_custom"] = {
            "target": {s.name(c): float(target[-1, c]) for c in range(s.ds.num_classes) if target[-1, c] > 0},
            "achieved": {s.name(c): float(final[-1, c]) for c in range(s.ds.num_classes)},
            "max_deviation": float(deviation[-1]),
        }
    return metrics


def l2(s: Setup) -> dict:
    """Task 3: the sweep of lambda_l2 * mean(x²) over a geometric progression, every class at each λ."""
    cfg, targets = s.cfg, s.targets()
    lambdas = torch.logspace(
        torch.log10(torch.tensor(cfg.l2_range[0])),
        torch.log10(torch.tensor(cfg.l2_range[1])),
        cfg.l2_count,
        dtype=torch.float64,
    ).float()  # (L,)
    n_l, n_k = len(lambdas), len(targets)
    start = s.noise(n_k).repeat(n_l, 1, 1, 1)  # every λ starts from the same images
    per_image = lambdas.repeat_interleave(n_k).to(s.device)  # (L*B,)
    objective = cross_entropy(targets.repeat(n_l)) + per_image * l2_penalty()
    trace = dream(s.forward(), start, objective, steps=cfg.steps, lr=cfg.dream_lr, generator=s.generator)
    final = probabilities(s.forward(), trace.pixels).view(n_l, n_k, -1)  # (L, B, K)
    images = trace.pixels.view(n_l, n_k, *s.ds.input_shape)
    magnitude = images.abs().flatten(2).mean(2)  # (L, B)
    conf = pick(final, targets)  # (L, B)
    s.run.save_arrays(
        "l2", lambdas=lambdas, images=images, probs=final, mean_pixel=magnitude, targets=targets, classes=s.ds.classes
    )
    s.run.save_table(
        "l2_sweep",
        [
            {
                "lambda": float(lam),
                "mean_pixel": float(magnitude[i].mean()),
                "mean_target_p": float(conf[i].mean()),
                **{f"p_{s.name(t)}": float(conf[i, j]) for j, t in enumerate(targets.tolist())},
            }
            for i, lam in enumerate(lambdas)
        ],
    )
    per_lambda = magnitude.mean(1)
    monotonic = bool((per_lambda[1:] <= per_lambda[:-1]).all())
    return {
        "l2_lambdas": lambdas.tolist(),
        "l2_mean_pixel": per_lambda.tolist(),
        "l2_target_confidence": conf.mean(1).tolist(),
        "l2_mean_pixel_monotonic": monotonic,
    }


def robust_transforms(cfg) -> list[Transform]:
    """What the model sees of a robust dream each step: a random shift, then a random rotation and zoom."""
    out = [jitter(cfg.jitter)] if cfg.jitter else []
    if cfg.rotate > 0 or cfg.zoom > 0:
        out.append(rotate_zoom(cfg.rotate, cfg.zoom))
    return out


def robust(s: Setup, plain: torch.Tensor | None = None) -> dict:
    """Going further: dreams of an ensemble under jitter, blur, TV and L2, beside plain ones, scored by the judge."""
    cfg, targets = s.cfg, s.targets()
    if plain is None:
        plain = dream(
            s.forward(),
            s.noise(len(targets)),
            cross_entropy(targets),
            steps=cfg.steps,
            lr=cfg.dream_lr,
            stop=target_reached(targets, cfg.confidence),
            generator=s.generator,
        ).pixels
    objective = cross_entropy(targets)
    if cfg.tv > 0:
        objective = objective + cfg.tv * total_variation()
    if cfg.robust_l2 > 0:
        objective = objective + cfg.robust_l2 * l2_penalty()
    trace = dream(
        s.forward(s.members),
        s.noise(len(targets)),
        objective,
        steps=cfg.robust_steps,
        lr=cfg.dream_lr,
        transforms=robust_transforms(cfg),
        post=[blur(cfg.blur_sigma, cfg.blur_every)] if cfg.blur_sigma > 0 else [],
        frame_every=cfg.frame_every,
        generator=s.generator,
    )
    judged = {
        kind: probabilities(s.forward([s.judge]), px) for kind, px in (("plain", plain), ("robust", trace.pixels))
    }
    mine = {kind: probabilities(s.forward(), px) for kind, px in (("plain", plain), ("robust", trace.pixels))}
    p_judge = {kind: pick(p, targets) for kind, p in judged.items()}  # (B,) each
    p_mine = {kind: pick(p, targets) for kind, p in mine.items()}
    recognised = {kind: int((p >= RECOGNISED).sum()) for kind, p in p_judge.items()}
    s.run.save_arrays(
        "robust",
        plain=plain,
        robust=trace.pixels,
        targets=targets,
        judge_plain=judged["plain"],
        judge_robust=judged["robust"],
        classifier_plain=mine["plain"],
        classifier_robust=mine["robust"],
        frames=trace.frames,
        frame_steps=trace.frame_steps,
        classes=s.ds.classes,
    )
    s.run.save_table(
        "judge",
        [
            {
                "class": s.name(t),
                "classifier_p_plain": float(p_mine["plain"][i]),
                "judge_p_plain": float(p_judge["plain"][i]),
                "judge_says_plain": s.name(int(judged["plain"][i].argmax())),
                "classifier_p_robust": float(p_mine["robust"][i]),
                "judge_p_robust": float(p_judge["robust"][i]),
                "judge_says_robust": s.name(int(judged["robust"][i].argmax())),
            }
            for i, t in enumerate(targets.tolist())
        ],
    )
    return {
        "judge_recognised_plain": recognised["plain"],
        "judge_recognised_robust": recognised["robust"],
        "judge_p_plain": {s.name(t): float(p) for t, p in zip(targets.tolist(), p_judge["plain"], strict=True)},
        "judge_p_robust": {s.name(t): float(p) for t, p in zip(targets.tolist(), p_judge["robust"], strict=True)},
        "robust_classifier_confidence": {
            s.name(t): float(p) for t, p in zip(targets.tolist(), p_mine["robust"], strict=True)
        },
        "robust_seconds": trace.seconds,
    }
