"""RUN/tensorboard/ from the run folder, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from mlplab.experiments import execute
from mlplab.report.page.tensorboard import write_tensorboard

from .conftest import EVIL


def load(folder) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def hparams_of(acc: EventAccumulator) -> dict:
    content = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    out = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        out[key] = getattr(value, kind)
    return out


def test_scalars_images_and_hparams_from_the_run_folder(hostile_run):
    folder = write_tensorboard(hostile_run)
    acc = load(folder)
    loss = acc.Scalars("train/loss")
    assert [e.step for e in loss] == [1, 2, 3]
    assert [e.value for e in loss] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [e.value for e in acc.Scalars("val/accuracy")] == pytest.approx([0.6, 0.7, 0.8])
    images = acc.Tags()["images"]
    assert "figures/loss_curves" in images
    img = acc.Images("figures/loss_curves")[0]
    assert (img.width, img.height) == (30, 20)
    hp = hparams_of(acc)
    assert hp["seed"] == 3 and hp["note"] == EVIL and hp["hidden"] == "[8, 4]"
    final = {t: acc.Scalars(t)[0].value for t in acc.Tags()["scalars"] if t.startswith("final/")}
    assert final["final/test_accuracy"] == pytest.approx(0.9123) and final["final/parameters"] == 12345
    assert "final/per_class_recall" not in final  # only numbers


def test_rebuilding_replaces_the_old_event_files(hostile_run):
    first = sorted(p.name for p in write_tensorboard(hostile_run).rglob("events.out.tfevents.*"))
    folder = write_tensorboard(hostile_run)
    assert len(list(folder.rglob("events.out.tfevents.*"))) == len(first)
    assert [e.step for e in load(folder).Scalars("train/loss")] == [1, 2, 3]  # each point once


def test_execute_with_tensorboard_true_logs_any_experiment(demo_experiment, tmp_path):
    run = execute(demo_experiment, ["tensorboard=true"], out=str(tmp_path / "r"))
    acc = load(run.path / "tensorboard")
    assert [e.value for e in acc.Scalars("train/loss")] == pytest.approx([1.0, 0.5])
    assert "figures/samples" in acc.Tags()["images"]
    assert hparams_of(acc)["tensorboard"] == 1  # torch stores a bool hyper-parameter as a number


def test_without_the_key_no_tensorboard_folder(demo_experiment, tmp_path):
    run = execute(demo_experiment, [], out=str(tmp_path / "r"))
    assert not (run.path / "tensorboard").exists()


def test_each_model_of_a_multi_model_run_has_its_own_tags(tmp_path):
    """ae-pca trains one autoencoder per code size: each model's curve under its own tags, every epoch once."""
    run = execute("ae-pca", ["epochs=2", "ks=[4,30]", "tensorboard=true"], out=str(tmp_path / "r"))
    acc = load(run.path / "tensorboard")
    rows = [r for r in run.history if "model" in r]
    models = sorted({r["model"] for r in rows})
    assert len(models) == 2
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        events = acc.Scalars(f"{model}/train/loss")
        assert [e.step for e in events] == [r["epoch"] for r in mine]
        assert [e.value for e in events] == pytest.approx([r["train_loss"] for r in mine])
    assert "train/loss" not in acc.Tags()["scalars"]  # no tag mixes the models' rows
