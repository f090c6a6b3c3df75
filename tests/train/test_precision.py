"""precision=bf16 / auto (issue 15): the trainer's step under autocast is torch's autocast step, weights stay fp32,
hardware without bf16 matrix instructions refuses bf16 with one line, and auto falls back to fp32 there."""

import json

import pytest
import torch

from mlplab.data import load_dataset
from mlplab.device import bf16_support, resolve_precision
from mlplab.errors import UserError
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer


def _model_and_batch():
    torch.manual_seed(0)
    ds = load_dataset("digits")
    return MLPClassifier(64, [48, 32], 10), (ds.train.x[:64], ds.train.y[:64])


def _after_one_step(precision):
    model, batch = _model_and_batch()
    trainer = Trainer(model, make_optimizer(model.parameters(), "adam", 1e-2), progress=False, precision=precision)
    trainer._step(batch, epoch=1, step=1)
    return model


def test_bf16_step_is_torch_autocast_step_and_weights_stay_fp32():
    ours = _after_one_step(torch.bfloat16)
    model, (x, y) = _model_and_batch()
    opt = make_optimizer(model.parameters(), "adam", 1e-2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    for a, b in zip(ours.parameters(), model.parameters(), strict=True):
        assert a.dtype == torch.float32 and torch.equal(a, b)
    fp32 = _after_one_step(None)  # and autocast did change the arithmetic
    assert any(not torch.equal(a, b) for a, b in zip(ours.parameters(), fp32.parameters(), strict=True))


def test_without_bf16_instructions_bf16_is_refused_and_auto_is_fp32(monkeypatch, cli, tmp_path):
    # this CPU's flags are read from /proc/cpuinfo; a machine without them is simulated by an empty list
    monkeypatch.setattr("mlplab.device.cpu_bf16_flags", lambda: [])
    with pytest.raises(UserError, match="needs bf16 matrix instructions"):
        resolve_precision("bf16", torch.device("cpu"))
    code, _, err = cli("run", "classify", "precision=bf16", "epochs=1", "hidden=[16]", "--out", str(tmp_path / "r"))
    assert code == 2 and err.count("\n") == 1 and "has no bf16 matrix instructions" in err
    assert not (tmp_path / "r").exists()
    code, _, _ = cli("run", "classify", "precision=auto", "epochs=1", "hidden=[16]", "--out", str(tmp_path / "a"))
    assert code == 0 and json.loads((tmp_path / "a" / "metrics.json").read_text())["precision"] == "fp32"


@pytest.mark.skipif(not bf16_support(torch.device("cpu"))[0], reason="this CPU has no bf16 matrix instructions")
def test_bf16_run_on_this_cpu(cli, tmp_path):
    """Same budget, bf16 against fp32: the accuracy after it is within 3 points."""
    accuracy = {}
    for precision in ("bf16", "fp32"):
        out = tmp_path / precision
        code, _, _ = cli("run", "classify", f"precision={precision}", "epochs=10", "hidden=[64]", "--out", str(out))
        metrics = json.loads((out / "metrics.json").read_text())
        assert code == 0 and metrics["precision"] == precision
        accuracy[precision] = metrics["test_accuracy"]
    assert accuracy["fp32"] > 0.8 and abs(accuracy["bf16"] - accuracy["fp32"]) < 0.03, accuracy
    assert json.loads((tmp_path / "bf16" / "env.json").read_text())["cpu_bf16"]
