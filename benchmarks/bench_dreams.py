"""10 dreams x 200 steps on the default MLP 784-1024-2048-256-10 (CPU, no training): mlplab vs a naive loop.

Baseline (the notebook way): the weights keep requires_grad, loss.backward() fills weight gradients that are
never used, torch.optim.Adam on the pixels, the stop test reads `.item()` every step.
mlplab: frozen weights, `torch.autograd.grad` w.r.t. the pixels only, the stop test every 10 steps
(`mlplab.analysis.dreaming.dream`). Both run exactly 200 steps (the stop threshold is never reached) on the same
random-weight model from the same noise, and must end with the same images. Also prints the compute floor:
forward + input-gradient FLOPs / matmul FLOP/s measured here, now.

    python benchmarks/bench_dreams.py [--steps 200] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
import torch.nn.functional as F

from mlplab.analysis.dreaming import cross_entropy, dream, freeze, pixel_forward, target_reached
from mlplab.nn import MLPClassifier

HIDDEN, MEAN, STD, LR = [1024, 2048, 256], 0.1307, 0.3081, 0.05
NEVER = 1.0 + 1e-6  # a confidence no softmax reaches: both loops run every step


def naive(model: torch.nn.Module, start: torch.Tensor, targets: torch.Tensor, steps: int) -> torch.Tensor:
    model.requires_grad_(True)
    model.eval()
    x = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=LR)
    for _ in range(steps):
        logits = model((x - MEAN) / STD)
        if logits.softmax(1).gather(1, targets[:, None]).min().item() >= NEVER:
            break
        opt.zero_grad()
        F.cross_entropy(logits, targets, reduction="sum").backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()


def ours(model: torch.nn.Module, start: torch.Tensor, targets: torch.Tensor, steps: int) -> torch.Tensor:
    forward = pixel_forward([freeze(model)], lambda px: (px - MEAN) / STD)
    return dream(
        forward, start, cross_entropy(targets), steps=steps, lr=LR, stop=target_reached(targets, NEVER), check_every=10
    ).pixels


def best_of(fn, repeats: int, *args) -> tuple[float, torch.Tensor]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def floor_seconds(steps: int, batch: int) -> tuple[float, float]:
    sizes = [784, *HIDDEN, 10]
    weights = [a * b for a, b in itertools.pairwise(sizes)]
    flops = steps * batch * (2 * sum(weights) + 2 * sum(weights))  # forward + input gradient (incl. first layer)
    a, b = torch.randn(batch, 2048), torch.randn(2048, 1024)
    a @ b
    t = min(_timed(lambda: a @ b) for _ in range(50))
    rate = 2 * batch * 2048 * 1024 / t
    return flops / rate, rate


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave as set)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MLPClassifier(784, HIDDEN, 10)
    start = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    targets = torch.arange(10)
    ours(model, start, targets, 5)  # warm-up
    base_s, base_x = best_of(naive, args.repeats, model, start, targets, args.steps)
    ours_s, ours_x = best_of(ours, args.repeats, model, start, targets, args.steps)
    floor, rate = floor_seconds(args.steps, 10)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}; 10 dreams x {args.steps} steps, "
        f"784-{'-'.join(map(str, HIDDEN))}-10, best of {args.repeats}"
    )
    print(f"  naive loop (weight grads, .item() each step): {base_s:6.3f} s")
    print(f"  mlplab dream():                                {ours_s:6.3f} s   speed-up {base_s / ours_s:.2f}x")
    print(
        f"  same final images: {torch.allclose(base_x, ours_x, atol=1e-5)} "
        f"(max difference {float((base_x - ours_x).abs().max()):.2e})"
    )
    print(
        f"  compute floor: {floor:.3f} s at {rate / 1e9:.1f} GFLOP/s (batch-10 matmul measured now); "
        f"mlplab at {ours_s / floor:.2f}x the floor; target <= 1 s: {'met' if ours_s <= 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
