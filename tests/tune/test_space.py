"""Spaces read from the command line: Optuna distributions of the right kind, sampled values that `mlplab run`
reads back to the same config, and the verdict rule of the confirmation (no training here)."""

from __future__ import annotations

import math

import pytest

from mlplab.config import parse_overrides
from mlplab.experiments import EXPERIMENTS
from mlplab.tune.confirm import verdict
from mlplab.tune.space import parse_space

ITEMS = [
    "lr=loguniform(1e-4,1e-2)",
    "hidden=choice([256],[512,256],[1024,1024])",
    "dropout=uniform(0,0.5)",
    "epochs=int(5,40)",
    "optimizer=choice(adam,sgd)",
    "dataset=fashion-mnist",
]


def test_each_space_becomes_its_optuna_distribution():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space = parse_space("classify", ITEMS)
    d = space.distributions()
    assert d["lr"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert d["dropout"] == FloatDistribution(0.0, 0.5)
    assert d["epochs"] == IntDistribution(5, 40)
    assert d["hidden"] == CategoricalDistribution(["[256]", "[512,256]", "[1024,1024]"])
    assert d["optimizer"] == CategoricalDistribution(["adam", "sgd"])
    assert space.fixed == ("dataset=fashion-mnist",)


def test_sampled_values_read_back_as_the_config_mlplab_run_builds():
    import optuna

    space = parse_space("classify", ITEMS)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
    cls = EXPERIMENTS.get("classify").config
    for _ in range(20):
        trial = study.ask(space.distributions())
        cfg = parse_overrides(cls, space.overrides(trial.params))
        assert cfg.lr == trial.params["lr"] and cfg.dropout == trial.params["dropout"]
        assert cfg.epochs == trial.params["epochs"] and cfg.optimizer == trial.params["optimizer"]
        assert (
            cfg.hidden == {"[256]": [256], "[512,256]": [512, 256], "[1024,1024]": [1024, 1024]}[trial.params["hidden"]]
        )
        assert cfg.dataset == "fashion-mnist"
        study.tell(trial, 0.0)


def test_a_space_on_a_key_with_dashes_and_the_same_fingerprint_for_the_same_command():
    a = parse_space("classify", ["batch-size=choice(128,256)", "lr=uniform(0.001,0.01)"])
    b = parse_space("classify", ["batch_size=choice(128,256)", "lr=uniform(1e-3,1e-2)"])
    assert a.keys == ["batch_size", "lr"] and a.fingerprint() == b.fingerprint()


@pytest.mark.parametrize(
    "diff, p, overlap, n, words",
    [
        (0.02, 0.01, False, 3, "beats the defaults beyond the seed noise"),
        (-0.02, 0.01, False, 3, "worse than the defaults"),
        (0.02, 0.2, True, 3, "not told apart from the defaults"),
        (0.0, math.nan, True, 3, "very same numbers"),
        (0.01, 0.5, True, 1, "one seed per arm"),
    ],
)
def test_verdict(diff, p, overlap, n, words):
    assert words in verdict(diff, p, overlap, n)
