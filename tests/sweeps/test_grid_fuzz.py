"""The sweep grid parser under random and hostile input (issue 23): the command line's `key=v1,v2` texts and
`mlplab.sweep`'s grid dict give a valid grid or one UserError (ConfigError), never another exception."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlplab.api import _sweep_axes
from mlplab.errors import UserError
from mlplab.sweeps import parse_grid, validate

KEYS = ["lr", "dropout", "hidden", "epochs", "seed", "activation", "augment", "optimizer", "preset", "data_dir"]
HOSTILE = [
    "[" * 3000 + "]" * 3000,
    "{a: " * 500 + "1" + "}" * 500,
    "2001-02-30",
    "1:0",
    "010",
    "0x1F",
    "1e999",
    "-.inf",
    ".nan",
    "9" * 5000,
    "&a [*a, *a]",
    "*undefined",
    "!!python/object/apply:os.system ['true']",
    "!!binary AAAA",
    "'unterminated",
    '"\\x',
    "\x00",
    "\ud800",
    "a\nb",
    "~",
    "null",
    "",
    ",",
    ";;",
    "]",
    "[",
]
SEPARATED = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=6), min_size=1, max_size=4).map(",".join)
VALUE_TEXT = st.text(alphabet=st.sampled_from(list("0123456789.,;[]{}()-+eE:!&*'\"#| \tabz_")), max_size=12)
ITEM = st.one_of(
    st.builds("{}={}".format, st.sampled_from(KEYS) | st.text(max_size=6), VALUE_TEXT | SEPARATED),
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
)


def _check(trials, grid) -> None:
    """A valid grid: one trial per combination, no two alike."""
    assert len(trials) == math.prod(len(v) for v in grid.axes.values())
    assert len({t.key for t in trials}) == len(trials) and len({t.id for t in trials}) == len(trials)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ITEM, max_size=3))
@example(["epochs=2001-02-30"])
@example(["hidden=" + "[" * 3000 + "]" * 3000])
@example(["seed=0,00", "lr=1e-3"])
@example(["hidden=[16],16"])
@example(["lr=1e-3;2e-3", "=1", "lr=1"])
def test_command_line_grids_give_a_grid_or_one_user_error(items):
    try:
        grid = parse_grid("classify", items)
        trials = validate(grid)
    except UserError as exc:
        assert str(exc)
        return
    _check(trials, grid)


PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(HOSTILE),
)
NUMPY = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31).map(np.int64),
    st.floats(width=32).map(np.float32),
    st.lists(st.integers(min_value=-5, max_value=300), max_size=3).map(np.array),
    st.just(np.array([[1, 2], [3, 4]])),
    st.just(np.float64("nan")),
    st.just(np.bool_(True)),
)
VALUE = st.recursive(PLAIN | NUMPY, lambda inner: st.lists(inner, max_size=3) | st.tuples(inner), max_leaves=6)
VALUES = st.one_of(st.lists(VALUE, max_size=4), st.tuples(VALUE, VALUE), VALUE, NUMPY)
GRID = st.one_of(
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), VALUES, max_size=3),
    st.dictionaries(st.integers() | st.none(), VALUES, max_size=1),
    st.none(),
    st.lists(st.text(max_size=4), max_size=2),
    st.text(max_size=4),
)
SEEDS = st.one_of(
    st.integers(min_value=-3, max_value=4),
    st.lists(st.integers(min_value=-3, max_value=2**33) | st.floats() | st.text(max_size=3), max_size=3),
    st.just(np.arange(3)),
    st.just(np.int64(2)),
    st.booleans(),
    st.none(),
    st.floats(),
    st.text(max_size=3),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GRID, SEEDS)
@example({"activation": ["relu;tanh"]}, 1)
@example({"dataset": ["a,b;c"]}, [0])
@example({"hidden": [np.array([16, 8])]}, np.arange(2))
@example({"lr": [float("nan")]}, 1)
@example({"hidden": [[16, float("inf")]]}, 1)
@example({"epochs": ["2001-02-30"]}, 1)
def test_python_grids_give_a_grid_or_one_config_error(grid, seeds):
    try:
        axes, command = _sweep_axes("classify", grid, seeds)
        trials = validate(axes)
    except UserError as exc:
        assert str(exc)
        return
    _check(trials, axes)
    assert command.startswith(("mlplab sweep classify ", "mlplab.sweep('classify', "))
    if isinstance(grid, dict):
        for key, values in grid.items():  # a text from Python is one value, never split
            texts = [v for v in (values if isinstance(values, (list, tuple)) else []) if isinstance(v, str)]
            assert all(t in axes.axes[key.strip().replace("-", "_")] for t in texts)
