"""The grid syntax, the trials it makes, and the main-metric rule."""

from __future__ import annotations

import math

import pytest

from mlplab.errors import UserError
from mlplab.sweeps import flatten_numeric, main_metric, parse_grid, split_values, validate


@pytest.mark.parametrize(
    "text, values",
    [
        ("1e-3,1e-2", ["1e-3", "1e-2"]),
        ("[256,128],[1024,1024]", ["[256,128]", "[1024,1024]"]),
        ("[256,128];[1024,1024]", ["[256,128]", "[1024,1024]"]),
        ("[32]", ["[32]"]),
        ("[crop,flip],[]", ["[crop,flip]", "[]"]),
        ("relu", ["relu"]),
    ],
)
def test_split_values_keeps_brackets(text, values):
    assert split_values(text) == values


def test_grid_is_the_product_with_seeds_adjacent():
    grid = parse_grid("classify", ["lr=1e-3,1e-2", "hidden=[64,32],[16]", "epochs=2", "seed=0,1,2"])
    trials = grid.trials()
    assert len(trials) == 2 * 2 * 3
    assert grid.varying == ["lr", "hidden"]
    assert [t.id for t in trials[:3]] == ["000", "001", "002"]
    assert {t.point for t in trials[:3]} == {0} and [t.seed for t in trials[:3]] == ["0", "1", "2"]
    assert trials[-1].overrides == ("lr=1e-2", "hidden=[16]", "epochs=2", "seed=2")
    assert len({t.overrides for t in trials}) == len(trials)


def test_fingerprint_names_the_grid():
    a = parse_grid("classify", ["lr=1e-3,1e-2", "seed=0,1"])
    assert a.fingerprint() == parse_grid("classify", ["lr=1e-3,1e-2", "seed=0,1"]).fingerprint()
    assert a.fingerprint() != parse_grid("classify", ["lr=1e-3,1e-2", "seed=0,1,2"]).fingerprint()


@pytest.mark.parametrize(
    "items, message",
    [
        (["lr="], "empty value list"),
        (["lr=1e-3,,1e-2"], "empty value"),
        (["hidden=[32,16"], "unbalanced brackets"),
        (["lr=1e-3", "lr=1e-2"], "given twice"),
        (["lr=0.1,0.1"], "lists a value twice"),
        (["epochs"], "expected key=v1,v2"),
    ],
)
def test_malformed_grids_are_refused(items, message):
    with pytest.raises(UserError, match=message):
        parse_grid("classify", items)


@pytest.mark.parametrize(
    "items, message",
    [
        (["hiden=[32]"], "unknown config key 'hiden'"),
        (["dropout=0.1,2.0"], r"'dropout': 2\.0 is out of range.*dropout=2\.0"),
        (["activation=relu,swish"], "activation"),
        (["hidden=[32],[0]"], "hidden"),
    ],
)
def test_every_value_is_checked_against_the_config(items, message):
    with pytest.raises(UserError, match=message):
        validate(parse_grid("classify", items))


def test_flatten_numeric_keeps_nested_numbers_and_nan():
    flat = flatten_numeric({"a": 1, "b": {"x": 2.5, "y": "text"}, "c": None, "d": True, "e": "mnist"})
    assert flat["a"] == 1.0 and flat["b.x"] == 2.5 and math.isnan(flat["c"])
    assert set(flat) == {"a", "b.x", "c"}


@pytest.mark.parametrize(
    "names, expected",
    [
        (["train_loss", "test_accuracy", "accuracy"], ("test_accuracy", "max")),
        (["train_loss", "accuracy"], ("accuracy", "max")),
        (["loss", "knn_accuracy"], ("knn_accuracy", "max")),
        (["train_loss", "test_mse"], ("test_mse", "min")),
        (["sse", "epochs"], ("sse", "min")),
        (["epochs", "per_class.accuracy"], None),
    ],
)
def test_main_metric_rule(names, expected):
    assert main_metric(dict.fromkeys(names, 0.0)) == expected
