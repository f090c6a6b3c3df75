"""GAN quality metrics against hand computations and closed forms; the collapse detector on known histories."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mlplab.analysis import gan_quality as gq


def test_frechet_distance_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 0.8, 0.2], [0.1, 0.0, 1.5]])
    b = rng.normal(size=(300, 3)) * [0.5, 2.0, 1.0] + [1.0, -1.0, 0.5]
    s_a, s_b = np.cov(a.T), np.cov(b.T)
    # Tr (S_a S_b)^½ = Tr (S_a^½ S_b S_a^½)^½, with symmetric square roots from eigendecompositions
    w, v = np.linalg.eigh(s_a)
    root_a = v @ np.diag(np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    hand = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.sqrt(inner).sum()
    assert gq.frechet_distance(a, b) == pytest.approx(hand, rel=1e-9)
    assert gq.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_approaches_the_closed_form():
    """For N(mu1, diag s1²) and N(mu2, diag s2²): FD = |mu1 - mu2|² + sum (s1 - s2)²."""
    rng = np.random.default_rng(1)
    mu1, mu2, s1, s2 = np.array([0.0, 1, 2]), np.array([1.0, 1, 0]), np.array([1.0, 2, 0.5]), np.array([2.0, 1, 0.5])
    a, b = rng.normal(mu1, s1, size=(200_000, 3)), rng.normal(mu2, s2, size=(200_000, 3))
    closed = ((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum()  # = 5 + 2 = 7
    assert closed == 7.0
    assert gq.frechet_distance(a, b) == pytest.approx(closed, rel=0.01)


def test_frechet_distance_survives_singular_covariances():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 20)), rng.normal(size=(6, 20))  # fewer samples than features
    assert np.isfinite(gq.frechet_distance(a, b))


def test_prdc_on_a_hand_worked_example():
    # k=1. real radii: 0->1, 1->1, 3->2; fake radii: 0.4->9.6, 10->9.6
    real, fake = np.array([[0.0], [1.0], [3.0]]), np.array([[0.4], [10.0]])
    got = gq.prdc(real, fake, k=1)
    assert got == pytest.approx({"precision": 0.5, "recall": 1.0, "density": 1.0, "coverage": 2 / 3})


def test_prdc_on_point_clouds_with_known_answers():
    rng = np.random.default_rng(3)
    left, right = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + [100.0, 0.0]
    real = np.concatenate([left, right])
    same = gq.prdc(real, real.copy())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    half = gq.prdc(real, left.copy())  # a generator that found one of the two modes
    assert half == pytest.approx({"precision": 1.0, "recall": 0.5, "coverage": 0.5, "density": half["density"]})
    far = gq.prdc(real, rng.normal(size=(40, 2)) + [0.0, 1000.0])
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    constant = gq.prdc(real, np.repeat(left[:1], 40, axis=0))  # mode collapse onto one real point
    assert constant["precision"] == 1.0 and constant["recall"] == 0.0 and constant["coverage"] <= 0.1


def test_memorised_share():
    rng = np.random.default_rng(4)
    train, test = rng.random((300, 1, 4, 4)), rng.random((200, 1, 4, 4))
    assert gq.memorised_share(train[:50].copy(), train, test) == 1.0  # copies of training images
    assert gq.memorised_share(test, train, test) == pytest.approx(0.05, abs=0.011)  # fresh draws: the quantile


def rows(*values):
    return [{"step": 10 * (i + 1), "recall": r, "coverage": c} for i, (r, c) in enumerate(values)]


def test_collapse_is_a_fall_from_health_not_a_slow_start():
    rule = gq.CollapseRule(recall=0.25, coverage=0.25)
    learning = rows((0.0, 0.1), (0.1, 0.3), (0.3, 0.6), (0.6, 0.7), (0.7, 0.8))
    assert gq.collapse_flags(learning, rule) == [False] * 5 and gq.first_collapse(learning, rule) is None
    falls = rows((0.0, 0.1), (0.6, 0.7), (0.4, 0.6), (0.05, 0.6), (0.02, 0.1))
    assert gq.collapse_flags(falls, rule) == [False, False, False, True, True]
    assert gq.first_collapse(falls, rule) == 40
    wobble = rows((0.3, 0.4), (0.2, 0.4), (0.3, 0.4))  # never healthy (2x the thresholds): noise, not collapse
    assert gq.first_collapse(wobble, rule) is None


class Features(nn.Module):
    """A stand-in judge: features are the first 4 pixels, logits favour class 0 by the mean pixel."""

    def __init__(self):
        super().__init__()
        self.act1 = nn.Identity()

    def forward(self, x):
        f = self.act1(x.flatten(1)[:, :4])
        return torch.stack([10 * f.mean(1), torch.zeros(len(x))], 1)


def test_judge_view_and_evaluate_with_a_stand_in_judge():
    judge = Features()
    assert gq.penultimate_layer(judge) == "act1"
    real = torch.rand(40, 1, 3, 3, generator=torch.Generator().manual_seed(0))
    probs, feats = gq.judge_view(judge, real)
    np.testing.assert_allclose(feats, real.flatten(1)[:, :4].double().numpy())
    np.testing.assert_allclose(probs.sum(1), 1.0)
    ref = gq.Reference.of(judge, real, 0)
    assert ref.real_scores()["fd_ratio"] == pytest.approx(1.0)
    scores, hist = gq.evaluate(judge, ref, real[20:])  # the held-out half itself
    assert scores == pytest.approx(ref.real_scores())
    assert hist.sum() == 20 and len(hist) == 2
    assert gq.decent_fraction(np.array([[0.95, 0.05], [0.5, 0.5], [0.9, 0.1]]), 0) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(gq.label_histogram(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])), [2, 1])
