"""The `gan` experiment on the embedded digits: run folder, same seed same numbers, resume, collapse handling,
bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mlplab.experiments.gan import gan as gan_exp
from mlplab.runs import Run

TINY = ("n=40", "eval_every=10", "samples=60", "judge_epochs=2", "d_hidden=[32,16]")
VARYING = ("train_seconds", "judge_source", "judge_path")


@pytest.fixture
def tiny(model_cache) -> tuple[str, ...]:
    """TINY with the judge cached for the whole session: trained by the first test that needs it, then reused
    (the judge is the same for every test here: same data, same judge_epochs)."""
    return (*TINY, f"cache_dir={model_cache}")


def numbers(path) -> dict:
    m = json.loads((path / "metrics.json").read_text())
    return {k: v for k, v in m.items() if k not in VARYING}


def history(path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in Run.open(path).history]


def test_run_folder_is_complete(cli, tiny, tmp_path):
    code, out, err = cli("run", "gan", *tiny, "--out", "r")
    assert code == 0, err
    run = Run.open(tmp_path / "r")
    m = run.metrics
    assert m["steps"] == 40 and m["generator_sizes"] == [100, 16, 32, 64]
    assert m["discriminator_sizes"] == [64, 32, 16, 1]
    assert m["train_images"] == 124 and sum(m["judge_labels"].values()) == 60
    for key in ("decent_fraction", "precision", "recall", "density", "coverage", "fd", "fd_ratio", "memorised_share"):
        assert np.isfinite(m[key]), key
    assert m["real_fd_ratio"] == 1.0 and m["initial_decent_fraction"] <= 0.1
    rows = run.history
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert all({"train_loss_d", "train_loss_g", "train_d_real", "train_d_fake", "judge_labels"} <= set(r) for r in rows)
    frames = sorted(p.name for p in (run.path / "arrays" / "frames").glob("*.npz"))
    assert frames == [f"step_{s:07d}.npz" for s in (0, 10, 20, 30, 40)]
    shot = run.load_arrays("frames/step_0000040")
    assert shot["pixels"].shape == (64, 1, 8, 8) and shot["pixels"].dtype == np.uint8
    for name in (
        "samples_start",
        "samples_middle",
        "samples_end",
        "losses",
        "quality",
        "judge_labels",
        "nearest_training_images",
    ):
        assert run.figure(name).is_file(), name
    assert (run.path / "animations" / "fixed_noise.gif").is_file()
    html = (run.path / "report.html").read_text()
    assert "Do the samples look like the class?" in html and "Mode collapse" in html


def test_same_seed_same_numbers(cli, tiny, tmp_path):
    for out in ("a", "b"):
        code, _, err = cli("run", "gan", *tiny, "--out", out, "--no-report")
        assert code == 0, err
    assert numbers(tmp_path / "a") == numbers(tmp_path / "b")
    assert history(tmp_path / "a") == history(tmp_path / "b")
    code, _, err = cli("run", "gan", *tiny, "seed=1", "--out", "c", "--no-report")
    assert numbers(tmp_path / "c")["fd"] != numbers(tmp_path / "a")["fd"]


def test_resume_of_a_killed_run_reaches_the_uninterrupted_numbers(cli, tiny, tmp_path, monkeypatch):
    code, _, err = cli("run", "gan", *tiny, "--out", "whole", "--no-report")
    assert code == 0, err
    original = gan_exp.Watch.after_evaluation

    def killed_at_20(self, trainer, row):
        original(self, trainer, row)
        if row["step"] == 20:
            raise KeyboardInterrupt

    monkeypatch.setattr(gan_exp.Watch, "after_evaluation", killed_at_20)
    code, _, err = cli("run", "gan", *tiny, "--out", "killed", "--no-report")
    assert code == 130 and "resume" in err
    assert [r["step"] for r in Run.open(tmp_path / "killed").history] == [10, 20]
    monkeypatch.setattr(gan_exp.Watch, "after_evaluation", original)
    code, _, err = cli("run", "gan", "--resume", "killed", "--no-report")
    assert code == 0, err
    assert numbers(tmp_path / "killed") == numbers(tmp_path / "whole")
    assert history(tmp_path / "killed") == history(tmp_path / "whole")


def test_linear_lr_decay_keeps_the_first_half_then_falls_to_zero(cli, tiny, tmp_path, monkeypatch):
    from mlplab.experiments.gan.gan import lr_decay

    code, _, err = cli("run", "--no-report", "gan", *tiny, "lr=0.001", "lr_decay=linear", "--out", "d")
    assert code == 0, err
    rows = Run.open(tmp_path / "d").history  # 4 evaluation intervals of 10 steps: the lr used in each
    assert [r["lr_d"] for r in rows] == [r["lr_g"] for r in rows] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4])
    import torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    (sched,) = lr_decay({"d": opt}, "linear", 10).values()
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([1, 1, 1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2]) and opt.param_groups[0]["lr"] == 0
    assert lr_decay({"d": opt}, "none", 10) == {}


def test_a_restart_halves_the_decaying_lrs(cli, tiny, tmp_path, monkeypatch):
    # steps 10, 20 (healthy), 30 (collapse) -> back to 20 with the lrs halved; the decay goes on from there
    monkeypatch.setattr(gan_exp.gq, "evaluate", scripted([0.0, 0.9, 0.8, 0.05, 0.7, 0.9, 0.9]))
    keys = ("on_collapse=restart", "lr=0.001", "lr_decay=linear")
    code, _, err = cli("run", "--no-report", "gan", *tiny, *keys, "--out", "r")
    assert code == 0, err
    rows = Run.open(tmp_path / "r").history
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert [r["lr_d"] for r in rows] == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4])


def test_training_watches_training_images_and_scores_the_test_images_once_at_the_end(cli, tiny, tmp_path, monkeypatch):
    references = []  # the real images of every reference the run builds, in order
    of = gan_exp.gq.Reference.of
    monkeypatch.setattr(
        gan_exp.gq.Reference, "of", lambda judge, images, label: references.append(images) or of(judge, images, label)
    )
    code, _, err = cli("run", "gan", *tiny, "--out", "w", "--no-report")
    assert code == 0, err
    run = Run.open(tmp_path / "w")
    cfg = gan_exp.GanConfig(**{k: v for k, v in run.config.items() if k != "experiment"})
    ds = gan_exp.cm.classifier_data(cfg.data_config(), torch.device("cpu"))
    train, test = (split.x[split.y == run.metrics["digit"]].flatten(1) for split in (ds.train, ds.test))
    assert len(references) == 2
    watched, scored = (r.flatten(1).cpu() for r in references)
    # the watched reference: as many training images of the class as it has test images, none of them a test image
    assert len(watched) == len(test) == run.metrics["test_images"]
    assert (torch.cdist(watched, train).min(1).values == 0).all() and (
        torch.cdist(watched, test).min(1).values > 0
    ).all()
    assert torch.equal(scored, test)  # built after training, once
    m = run.metrics
    assert (
        m["real_fd_ratio"] == 1.0 and m["watched_real_fd_ratio"] == 1.0 and m["real_recall"] != m["watched_real_recall"]
    )
    assert m["watched_recall"] == run.history[-1]["recall"]


def test_the_report_of_a_run_stopped_before_its_final_figures_is_built(cli, tiny, tmp_path):
    code, _, err = cli("run", "gan", *tiny, "--out", "k", "--no-report")
    assert code == 0, err
    metrics = tmp_path / "k" / "metrics.json"
    early = {k: v for k, v in json.loads(metrics.read_text()).items() if k.startswith(("initial_", "watched_real_"))}
    metrics.write_text(json.dumps(early))  # what a run killed during training has written
    code, _, err = cli("report", str(tmp_path / "k"))
    assert code == 0, err
    assert Run.open(tmp_path / "k").figure("quality").is_file()


def scripted(recalls):
    """A stand-in for the judge's scores: recall (and coverage) follow the script, one value per evaluation (the
    last one: the final samples against the test images)."""
    calls = iter(recalls)

    def evaluate(judge, ref, samples):
        r = next(calls)
        scores = {
            "decent_fraction": 0.5,
            "fd": 1.0,
            "fd_ratio": 1.0,
            "precision": 0.9,
            "recall": r,
            "density": 1.0,
            "coverage": r,
        }
        return scores, np.ones(10, dtype=int)

    return evaluate


def test_on_collapse_stop_exits_1_with_the_grid_of_that_moment(cli, tiny, tmp_path, monkeypatch):
    #                            step: 0    10   20   30   test
    monkeypatch.setattr(gan_exp.gq, "evaluate", scripted([0.0, 0.9, 0.8, 0.05, 0.9]))
    code, _, err = cli("run", "gan", *tiny, "on_collapse=stop", "--out", "s")
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("mlplab: run failed: mode collapse at step 30")
    run = Run.open(tmp_path / "s")
    m = run.metrics
    assert m["collapsed_at"] == 30 and m["stopped"] is True and m["steps"] == 40
    assert [r["step"] for r in run.history] == [10, 20, 30]
    assert run.figure("collapse_grid").is_file() and "The run was stopped" in (run.path / "report.html").read_text()


def test_on_collapse_none_only_reports(cli, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(gan_exp.gq, "evaluate", scripted([0.0, 0.9, 0.8, 0.05, 0.9, 0.6]))
    code, _, err = cli("run", "gan", *tiny, "--out", "n", "--no-report")
    assert code == 0, err
    run = Run.open(tmp_path / "n")
    assert run.metrics["collapsed_at"] == 30 and [r["step"] for r in run.history] == [10, 20, 30, 40]
    assert [r["collapsed"] for r in run.history] == [False, False, True, False]
    assert run.metrics["watched_recall"] == 0.9 and run.metrics["recall"] == 0.6  # last watched; test images


def test_on_collapse_restart_goes_back_to_the_last_healthy_checkpoint_with_lr_halved(cli, tiny, tmp_path, monkeypatch):
    # steps 0, 10, 20 (healthy), 30 (collapse) -> back to 20 with lr/2 -> 30, 40 healthy; then the test images
    monkeypatch.setattr(gan_exp.gq, "evaluate", scripted([0.0, 0.9, 0.8, 0.05, 0.7, 0.9, 0.9]))
    code, _, err = cli("run", "gan", *tiny, "on_collapse=restart", "lr=0.001", "--out", "r", "--no-report")
    assert code == 0, err
    run = Run.open(tmp_path / "r")
    restarts = json.loads((run.path / "restarts.json").read_text())
    assert restarts == [{"collapsed_at": 30, "restarted_from": 20, "lr": 0.0005}]
    rows = run.history
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert [r["lr_d"] for r in rows] == [r["lr_g"] for r in rows] == [0.001, 0.001, 0.0005, 0.0005]
    m = run.metrics
    assert m["restarts"] == 1 and m["collapsed_at"] is None and m["final_lr_d"] == m["final_lr_g"] == 0.0005
    assert run.config["lr"] == 0.001  # config.yaml stays what was asked; the halving is in the rows and metrics


def test_on_collapse_restart_is_bounded(cli, tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(gan_exp.gq, "evaluate", scripted([0.0, 0.9, 0.8, 0.05, 0.05, 0.05]))
    code, _, err = cli("run", "gan", *tiny, "on_collapse=restart", "max_restarts=1", "--out", "b", "--no-report")
    assert code == 1 and "after max_restarts=1" in err
    assert len(json.loads((tmp_path / "b" / "restarts.json").read_text())) == 1


@pytest.mark.parametrize(
    "override, key",
    [
        ("digit=10", "digit"),
        ("n=0", "'n'"),
        ("n_d=0", "n_d"),
        ("n_g=0", "n_g"),
        ("latent=0", "latent"),
        ("lr=0", "lr"),
        ("lr=-0.1", "lr"),
        ("d_hidden=[]", "d_hidden"),
        ("schedule=sometimes", "schedule"),
        ("normalization=standard", "normalization"),
        ("eval_every=0", "eval_every"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(cli, tiny, tmp_path, override, key):
    code, out, err = cli("run", "gan", *tiny, override, "--out", "bad")
    assert code == 2 and key in err and err.startswith("mlplab: error:") and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "bad").exists()
