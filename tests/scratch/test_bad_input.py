"""Bad input to the scratch engine: one clear UserError line (engine) or exit code 2 (CLI); divergence names
its step and layer."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import RunFailed, UserError
from mlplab.scratch import MLP, CrossEntropy, Diverged, Linear, SoftmaxCrossEntropy


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_mismatched_shapes_name_the_layer_and_the_shapes():
    model = MLP(4, [5, 6], 3)
    with pytest.raises(UserError) as exc:
        model.forward(np.zeros((2, 7)))
    assert one_line(exc) == "layer fc1 (Linear 4->5) expects input of shape (batch, 4), got (2, 7)"
    with pytest.raises(UserError) as exc:
        Linear(6, 2, name="fc2").forward(np.zeros((3, 5)))
    assert "fc2 (Linear 6->2)" in one_line(exc) and "(3, 5)" in str(exc.value)
    with pytest.raises(UserError, match=r"got \(4,\)"):
        model.forward(np.zeros(4))


@pytest.mark.parametrize("loss", [SoftmaxCrossEntropy(), CrossEntropy()])
@pytest.mark.parametrize(
    "labels, fragment",
    [
        ([0, 3], "label 3 is out of range for 3 classes; labels must be in 0..2"),
        ([-1, 0], "label -1 is out of range"),
        ([0.0, 1.0], "labels must be integer class indices"),
        ([0, 1, 2], "labels must have shape (2,)"),
    ],
)
def test_labels_out_of_range_or_malformed(loss, labels, fragment):
    with pytest.raises(UserError) as exc:
        loss.forward(np.full((2, 3), 1 / 3), np.array(labels))
    assert fragment in one_line(exc) and loss.name in str(exc.value)


def test_labels_out_of_range_through_a_training_step():
    with pytest.raises(UserError, match="label 5 is out of range for 3 classes"):
        MLP(2, [4], 3).training_step(np.zeros((2, 2)), np.array([1, 5]))


def test_nan_in_the_input():
    x = np.ones((4, 3))
    x[2, 1] = np.nan
    model = MLP(3, [4], 2)
    for call in (lambda: model.training_step(x, np.zeros(4, dtype=int)), lambda: model.forward(x)):
        with pytest.raises(UserError) as exc:
            call()
        assert "NaN or inf (first in row 2" in one_line(exc)
    assert model.steps == 0  # refused input is not a step


@pytest.mark.parametrize("hidden", [[30, 0], [0]])
def test_hidden_with_a_zero(hidden):
    with pytest.raises(UserError) as exc:
        MLP(2, hidden, 2)
    assert f"hidden={hidden}" in one_line(exc)


def test_bad_engine_settings():
    with pytest.raises(UserError, match="unknown activation 'gelu'"):
        MLP(2, [3], 2, activation="gelu")
    with pytest.raises(UserError, match="unknown init 'uniform'"):
        MLP(2, [3], 2, init="uniform")
    with pytest.raises(UserError, match="float64 or float32"):
        MLP(2, [3], 2, dtype=np.float16)
    with pytest.raises(UserError, match="momentum"):
        MLP(2, [3], 2, momentum=1.5)


def test_overflow_stops_training_naming_step_and_layer():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (64, 2)), rng.integers(0, 2, 64)
    model = MLP(2, [30] * 8, 2, init="normal", lr=0.05, momentum=0.9)
    with pytest.raises(RunFailed) as exc:
        for step in range(100):
            model.training_step(x[step % 2 * 32 :][:32], y[step % 2 * 32 :][:32])
    d = exc.value
    assert isinstance(d, Diverged) and 1 < d.step < 100 and d.step == model.steps
    assert f"training diverged at step {d.step}: the {d.where} of layer {d.layer}" in one_line(exc)
    layer = d.layer.split()[0]
    assert not np.isfinite(d.norms["activation"][layer])  # the named layer really holds inf/NaN
    earlier = [n for n in d.norms["activation"] if n != layer][: list(d.norms["activation"]).index(layer)]
    assert all(np.isfinite(d.norms["activation"][n]) for n in earlier)  # and it is the first one


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["moons", "hidden=[30,0]"], "config key 'hidden': 0 in [30, 0] is out of range"),
        (["scratch-mnist", "hidden=[0]"], "config key 'hidden'"),
        (["moons", "dataset=digits"], "moons draws a 2-D decision boundary; dataset 'digits' has 64 features"),
        (["scratch-mnist", "dtype=float16"], "config key 'dtype'"),
        (["moons", "init=uniform"], "config key 'init'"),
        (["gradcheck", "out_features=1"], "config key 'out_features'"),
        (["gradcheck", "step=0"], "config key 'step'"),
        (["moons", "momentum=1.5"], "config key 'momentum'"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    code, out, err = cli("run", *args, "--out", "bad")
    assert code == 2, err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad" / "metrics.json").exists()


def test_cli_divergence_is_one_line_exit_1(cli):
    code, out, err = cli(
        "run", "scratch-mnist", "init=normal", "hidden=[64,64,64,64]", "lr=0.5", "epochs=1", "--out", "div"
    )
    assert code == 1
    assert err.startswith("mlplab: run failed: training diverged at step ") and err.count("\n") == 1
