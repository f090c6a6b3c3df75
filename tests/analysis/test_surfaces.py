"""The 2-D surfaces and the optimisation loop of mlplab.analysis.surfaces."""

import math

import pytest
import torch

from mlplab.analysis.surfaces import SURFACES, get_surface, grid, optimize, pathological_curvature, steep_optima
from mlplab.errors import UserError
from mlplab.optim import SGD


def test_pathological_curvature_formula_and_gradient():
    w = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    loss = pathological_curvature(w[0], w[1])
    assert loss.item() == pytest.approx(math.tanh(0.7) ** 2 + 0.007 + 1 / (1 + math.exp(1.3)))
    loss.backward()
    s = 1 / (1 + math.exp(1.3))
    expected = [2 * math.tanh(0.7) * (1 - math.tanh(0.7) ** 2) + 0.01, s * (1 - s)]
    assert w.grad.tolist() == pytest.approx(expected)


def test_steep_optima_has_its_three_wells_where_stated():
    g = grid(steep_optima, (-2, 2, -2, 2), n=401)  # step 0.01, rows along w2
    w = torch.linspace(-2, 2, 401, dtype=torch.float64)
    for m in ((1.0, -0.5), (-1.0, 0.5), (-0.5, -0.8)):
        i, j = int((w - m[1]).abs().argmin()), int((w - m[0]).abs().argmin())
        patch = g[i - 5 : i + 6, j - 5 : j + 6]
        assert g[i, j] == patch.min() and g[i, j] < -3.9  # depth 1 / (2 pi 0.04) = 3.98
    assert abs(float(steep_optima(torch.tensor(0.0), torch.tensor(0.0)))) < 1e-3  # flat plain at the start


def test_optimize_records_start_every_update_and_the_end():
    fn = lambda a, b: (a - 1) ** 2 + 3 * b**2
    traj = optimize(fn, lambda p: SGD(p, 0.1), (0.0, 1.0), 3)
    assert traj.shape == (4, 3)
    w1, w2 = 0.0, 1.0
    for k in range(4):
        assert traj[k].tolist() == pytest.approx([w1, w2, (w1 - 1) ** 2 + 3 * w2**2])
        w1, w2 = w1 - 0.1 * 2 * (w1 - 1), w2 - 0.1 * 6 * w2


def test_every_listed_surface_evaluates_on_its_plot_extent():
    for s in SURFACES.values():
        g = grid(s.fn, s.extent, n=20)
        assert g.shape == (20, 20) and torch.isfinite(g).all(), s.name
    with pytest.raises(UserError, match="unknown surface 'himmelblau'; choose from: curvature"):
        get_surface("himmelblau")
