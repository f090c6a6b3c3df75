"""preset=fast (issue 15): what it sets, that explicit keys win and a resume does not re-apply it, and that on
real MNIST it reaches the 98.0% test accuracy it is named for."""

import json

import pytest

from mlplab.config import parse_overrides
from mlplab.experiments.classify import FAST, ClassifyConfig


def test_preset_sets_its_keys_and_explicit_keys_win():
    cfg = parse_overrides(ClassifyConfig, ["preset=fast", "epochs=5"])
    assert cfg.epochs == 5
    assert {k: getattr(cfg, k) for k in FAST if k != "epochs"} == {k: v for k, v in FAST.items() if k != "epochs"}
    same = parse_overrides(ClassifyConfig, [], typed={"preset": "fast", "epochs": 5})  # the API's keywords
    assert same == cfg


def test_preset_from_a_saved_config_is_not_applied_again():
    saved = {**parse_overrides(ClassifyConfig, ["preset=fast"]).to_dict(), "hidden": [8]}
    assert parse_overrides(ClassifyConfig, [], base=saved).hidden == [8]


def test_fast_preset_config_is_written(cli, tmp_path):
    code, _, _ = cli("run", "classify", "preset=fast", "epochs=1", "--out", str(tmp_path / "r"))
    config = (tmp_path / "r" / "config.yaml").read_text()
    assert code == 0 and "preset: fast" in config and "batch_size: 256" in config
    status = json.loads((tmp_path / "r" / "status.json").read_text())
    assert "preset=fast" in status["command"] and "hidden=[1024]" in status["command"]


@pytest.mark.slow
def test_fast_preset_reaches_98_percent_on_mnist(cli, tmp_path, mnist_dir):
    code, _, _ = cli(
        "run", "classify", "preset=fast", "dataset=mnist", f"data_dir={mnist_dir}", "--out", str(tmp_path / "r")
    )
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert code == 0 and metrics["test_accuracy"] >= 0.98, metrics["test_accuracy"]
