"""The scratch engine's hand-written derivatives against torch.autograd and finite differences (hypothesis
draws the shapes), its SGD against torch.optim.SGD, and a 200-step twin run against torch.nn."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlplab.analysis.scratch_vs_torch import autograd_gradients, twin_run
from mlplab.data import load_dataset
from mlplab.scratch import MLP, SGD, Linear, ReLU, Softmax
from mlplab.scratch.finite_differences import all_cases, numeric_gradients


@settings(max_examples=25, deadline=None, derandomize=True)  # the same examples on every CI run
@given(
    batch=st.integers(1, 9),
    d_in=st.integers(1, 8),
    d_out=st.integers(2, 7),
    hidden=st.lists(st.integers(1, 9), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
@example(batch=1, d_in=1, d_out=2, hidden=[1, 1, 1], seed=1_073_741_820)  # a gradient of 5e-6: rounding dominates
def test_every_layer_loss_and_mlp_matches_autograd_and_finite_differences(
    scratch_kinds, batch, d_in, d_out, hidden, seed
):
    cases = all_cases(np.random.default_rng(seed), batch, d_in, d_out, tuple(hidden))
    assert sorted({c.kind for c in cases}) == sorted(scratch_kinds)
    for case in cases:
        hand = case.grads()
        value, auto = autograd_gradients(case)
        assert case.value() == pytest.approx(value, rel=1e-12, abs=1e-12), case.name
        assert set(hand) == set(auto) == set(case.arrays)
        for key in hand:
            assert hand[key].shape == case.arrays[key].shape
            np.testing.assert_allclose(hand[key], auto[key], rtol=1e-10, atol=1e-12, err_msg=f"{case.name} d/d{key}")
        numeric = numeric_gradients(case)
        for key in hand:  # central differences carry ~1e-10 of rounding: a floor for gradients near zero
            error = np.abs(hand[key] - numeric[key]).max()
            assert error <= 1e-5 * np.abs(numeric[key]).max() + 1e-8, f"{case.name} d/d{key} vs finite differences"


def test_layers_forward_like_torch_in_float32_and_float64():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        lin = Linear(6, 4, init="xavier", rng=rng, dtype=dtype)
        x = rng.standard_normal((5, 6)).astype(dtype)
        y = lin.forward(x)
        assert y.dtype == dtype and lin.weight.dtype == dtype
        ref = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(lin.weight), torch.from_numpy(lin.bias))
        np.testing.assert_allclose(y, ref.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(Softmax().forward(x).sum(1), 1.0, rtol=1e-6)
        assert ReLU().forward(x).dtype == dtype


def test_init_scales():
    rng = np.random.default_rng(1)
    assert Linear(400, 300, init="he", rng=rng).weight.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert Linear(400, 300, init="xavier", rng=rng).weight.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert Linear(400, 300, init="normal", rng=rng).weight.std() == pytest.approx(1.0, rel=0.02)
    # seeded: the same seed gives the same network
    a, b = MLP(3, [4], 2, seed=7), MLP(3, [4], 2, seed=7)
    assert all(np.array_equal(a.state()[k], b.state()[k]) for k in a.state())


@pytest.mark.parametrize(
    "momentum, weight_decay, nesterov", [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.01, False), (0.8, 0.001, True)]
)
def test_sgd_matches_torch_optim_sgd(momentum, weight_decay, nesterov):
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [np.zeros_like(p) for p in params]
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    ours = SGD(
        list(zip(params, grads, strict=True)), lr=0.1, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
    )
    ref = torch.optim.SGD(tparams, lr=0.1, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
    for _ in range(6):
        for g, t in zip(grads, tparams, strict=True):
            g[...] = rng.standard_normal(g.shape)
            t.grad = torch.tensor(g)
        ours.step()
        ref.step()
        for p, t in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_training_step_changes_weights_and_evaluate_does_not():
    rng = np.random.default_rng(3)
    model = MLP(4, [5], 3, lr=0.1)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    before = {k: v.copy() for k, v in model.state().items()}
    model.evaluate(x, y)
    assert all(np.array_equal(before[k], v) for k, v in model.state().items())
    model.training_step(x, y)
    assert all(not np.array_equal(before[k], v) for k, v in model.state().items())


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_twin_run_matches_torch_nn_for_200_steps(activation):
    ds = load_dataset("digits")
    twin = twin_run(
        ds.train.x.numpy(),
        ds.train.y.numpy(),
        10,
        [30, 30],
        steps=200,
        batch_size=32,
        lr=0.05,
        momentum=0.9,
        activation=activation,
    )
    assert len(twin.scratch_loss) == 200 and np.isfinite(twin.scratch_loss).all()
    assert twin.rel_diff.max() <= 1e-6
    assert twin.scratch_loss[-20:].mean() < 0.5 * twin.scratch_loss[:20].mean()  # it trained, not just agreed


def test_the_engine_imports_no_autograd():
    code = (
        "import sys, mlplab.scratch, mlplab.scratch.finite_differences, mlplab.scratch.loop; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
