"""Two-parameter loss surfaces for watching optimizers move, and the loop that runs one on them.

The practical's two: the pathological curvature tanh(w1)^2 + 0.01*|w1| + sigmoid(w2) (a narrow valley
along w2 whose floor keeps falling) and the steep optima (minus three narrow Gaussians). A few classics
beside them for `surface=`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from mlplab.analysis.constants import STEEP_OPTIMA
from mlplab.errors import UserError

SurfaceFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def pathological_curvature(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """tanh(w1)^2 + 0.01*|w1| + sigmoid(w2): steep across w1, an ever-flatter slope along w2."""
    return torch.tanh(w1) ** 2 + 0.01 * torch.abs(w1) + torch.sigmoid(w2)


def gaussian(w1: torch.Tensor, w2: torch.Tensor, mean: tuple[float, float], sigma: float) -> torch.Tensor:
    """The isotropic 2-D normal density N(mean, sigma^2 I) at (w1, w2)."""
    r2 = (w1 - mean[0]) ** 2 + (w2 - mean[1]) ** 2
    return torch.exp(-r2 / (2 * sigma**2)) / (2 * math.pi * sigma**2)


def steep_optima(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """Minus three Gaussians (sigma 0.2) at (1, -0.5), (-1, 0.5), (-0.5, -0.8): flat between, steep inside."""
    return -sum(gaussian(w1, w2, m, 0.2) for m in STEEP_OPTIMA)


def rosenbrock(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """(1 - w1)^2 + 100 (w2 - w1^2)^2: a curved, flat-bottomed valley, minimum 0 at (1, 1)."""
    return (1 - w1) ** 2 + 100 * (w2 - w1**2) ** 2


def saddle(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """w1^2 - w2^2 + w2^4/4: a saddle at the origin between minima at (0, +-sqrt(2))."""
    return w1**2 - w2**2 + w2**4 / 4


def beale(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """Beale's function: sharp ridges and a flat basin, minimum 0 at (3, 0.5)."""
    return (1.5 - w1 + w1 * w2) ** 2 + (2.25 - w1 + w1 * w2**2) ** 2 + (2.625 - w1 + w1 * w2**3) ** 2


@dataclass(frozen=True)
class Surface:
    """A surface with its start and the learning rates (SGD, SGD with momentum, Adam) that show it best."""

    name: str
    fn: SurfaceFn
    start: tuple[float, float]
    lrs: tuple[float, float, float]
    extent: tuple[float, float, float, float]  # w1 min, w1 max, w2 min, w2 max for plots
    formula: str


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "curvature",
            pathological_curvature,
            (5.0, 5.0),
            (10.0, 10.0, 1.0),
            (-5, 5, -12, 6),
            "tanh(w1)^2 + 0.01|w1| + sigmoid(w2)",
        ),
        Surface(
            "steep-optima",
            steep_optima,
            (0.0, 0.0),
            (0.5, 1.0, 0.2),
            (-2, 2, -2, 2),
            "-sum of N((1,-0.5)), N((-1,0.5)), N((-0.5,-0.8)), sigma 0.2",
        ),
        Surface(
            "rosenbrock", rosenbrock, (-1.5, 2.0), (1.5e-3, 2e-2, 0.5), (-2, 2, -1, 3), "(1-w1)^2 + 100(w2-w1^2)^2"
        ),
        Surface("saddle", saddle, (1.0, 1e-3), (0.1, 0.1, 0.05), (-1.5, 1.5, -2, 2), "w1^2 - w2^2 + w2^4/4"),
        Surface("beale", beale, (1.0, 1.5), (0.01, 0.05, 0.1), (-1, 4, -1.5, 2), "Beale's function"),
    )
}
PRACTICAL_SURFACES = ("curvature", "steep-optima")


def get_surface(name: str) -> Surface:
    if name not in SURFACES:
        raise UserError(f"unknown surface {name!r}; choose from: {', '.join(SURFACES)}")
    return SURFACES[name]


def optimize(
    fn: SurfaceFn,
    make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    start: tuple[float, float],
    updates: int,
) -> torch.Tensor:
    """Run `updates` steps from `start`; the trajectory (updates + 1, 3) of (w1, w2, loss), start included."""
    w = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))  # (2,)
    opt = make_optimizer([w])
    rows = []
    for _ in range(updates):
        loss = fn(w[0], w[1])
        rows.append(torch.cat([w.detach(), loss.detach().view(1)]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        rows.append(torch.cat([w.detach(), fn(w[0], w[1]).view(1)]))
    return torch.stack(rows)  # (updates + 1, 3)


def grid(fn: SurfaceFn, extent: tuple[float, float, float, float], n: int = 120) -> torch.Tensor:
    """fn on an n x n grid over extent: (n, n) with rows along w2, columns along w1."""
    w1 = torch.linspace(extent[0], extent[1], n, dtype=torch.float64)
    w2 = torch.linspace(extent[2], extent[3], n, dtype=torch.float64)
    g2, g1 = torch.meshgrid(w2, w1, indexing="ij")
    with torch.no_grad():
        return fn(g1, g2)
