"""A multi-model run that is interrupted resumes: finished models are not trained again, the unfinished one
continues from its last checkpoint, and the numbers are the uninterrupted run's, bit for bit (issue 11, item 6).
Raising epochs on resume continues the first model and trains the later ones again: the fresh run's numbers."""

import json

import pytest

from mlplab.runs import Run

TINY = ["ae-undercomplete", "hs=[16,32,48]", "epochs=2", "batch_size=64"]
NATIVE = ["image_size=0", "epochs=2", "batch_size=256"]  # the 8x8 digits
# experiment: (overrides, its models in training order)
EVERY = {
    "ae-pca": (["ks=[2,4,6]", "encoder=[16]", "decoder=[16]"], ["ae_k2", "ae_k4", "ae_k6"]),
    "ae-undercomplete": (["hs=[4,8,12]"], ["h4", "h8", "h12"]),
    "ae-sparse": (["hidden=80", "penalties=[0.01,0.03]"], ["standard", "l1_0.01", "l1_0.03"]),
    "ae-denoising": (["sigmas=[0.5]", "fractions=[0.3]", "encoder=[16]", "code=8"], ["standard", "sigma0.5", "sp0.3"]),
    "ae-conv": (
        ["channels=[4,4]", "decoders=[unpool,transpose]", "mlp_codes=[8]"],
        ["conv_unpool", "conv_transpose", "mlp_h8"],
    ),
}


def _numbers(run_dir):
    run = Run.open(run_dir)
    metrics = {k: v for k, v in run.metrics.items() if "seconds" not in k}
    history = [{k: v for k, v in row.items() if "seconds" not in k} for row in run.history]
    return metrics, history


@pytest.mark.parametrize("experiment", list(EVERY))
def test_every_multi_model_experiment_resumes_after_its_second_model(
    cli, trained, tmp_path, interrupt_after, experiment
):
    keys, models = EVERY[experiment]
    argv = [experiment, *NATIVE, *keys]
    whole = trained(*argv)  # the uninterrupted run
    undo = interrupt_after(models[1], 2)
    code, _, err = cli("run", *argv, "--out", str(tmp_path / "cut"))
    undo()
    cut = tmp_path / "cut"
    assert code == 130 and f"--resume {cut}" in err, err  # the message offers the resume it can do
    assert not (cut / "metrics.json").exists()
    assert (cut / "checkpoints" / f"{models[0]}.pt").is_file()
    assert not (cut / "checkpoints" / f"{models[2]}-last.pt").exists()
    first = (cut / "checkpoints" / f"{models[0]}.pt").stat().st_mtime_ns

    code, out, err = cli("run", experiment, "--resume", str(cut), "--no-report")
    assert code == 0, err
    assert (cut / "checkpoints" / f"{models[0]}.pt").stat().st_mtime_ns == first  # loaded, not trained again
    assert _numbers(cut) == _numbers(whole)
    rows = [json.loads(line) for line in (cut / "metrics.jsonl").read_text().splitlines()]
    assert [(r["model"], r["epoch"]) for r in rows] == [(m, e) for m in models for e in (1, 2)]


@pytest.mark.parametrize("model, epoch", [("h32", 2), ("h48", 1)])
def test_interrupted_multi_model_run_resumes_to_the_same_numbers(cli, trained, tmp_path, interrupt_after, model, epoch):
    whole = trained(*TINY)  # the uninterrupted run, shared by both cuts
    undo = interrupt_after(model, epoch)
    code, _, err = cli("run", *TINY, "--out", str(tmp_path / "cut"))
    assert code == 130, err
    undo()
    cut = tmp_path / "cut"
    assert not (cut / "metrics.json").exists()
    finished = {p.stem for p in (cut / "checkpoints").glob("h*.pt") if "-" not in p.stem}
    assert finished == ({"h16"} if model == "h32" else {"h16", "h32"})
    before = {name: (cut / "checkpoints" / f"{name}.pt").stat().st_mtime_ns for name in finished}

    code, out, err = cli("run", "ae-undercomplete", "--resume", str(cut), "--no-report")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(cut)
    # finished models were loaded, not trained again
    assert all((cut / "checkpoints" / f"{n}.pt").stat().st_mtime_ns == t for n, t in before.items())
    assert _numbers(cut) == _numbers(whole)
    rows = [json.loads(line) for line in (cut / "metrics.jsonl").read_text().splitlines()]
    assert [(r["model"], r["epoch"]) for r in rows] == [(h, e) for h in ("h16", "h32", "h48") for e in (1, 2)]


def test_raising_epochs_of_a_finished_multi_model_run_gives_the_fresh_run(cli, trained, tmp_path):
    """Cosine over 1 epoch and over 2 use the same lr in epoch 1, so `--resume epochs=2` of a finished 1-epoch run
    must reach the fresh 2-epoch run: the first model goes on from its checkpoint, the later ones (whose start
    follows from the longer training before them) train again."""
    argv = ["ae-undercomplete", "image_size=0", "batch_size=256", "hs=[4,8,12]", "schedule=cosine"]
    whole = trained(*argv, "epochs=2")
    short = trained.copy(tmp_path / "short", *argv, "epochs=1")
    code, _, err = cli("run", "ae-undercomplete", "--resume", str(short), "epochs=2", "--no-report")
    assert code == 0, err
    assert _numbers(short) == _numbers(whole)
    assert (short / "config.yaml").read_text() == (whole / "config.yaml").read_text()
