"""The command line: list, run, report, and one clear line with exit code 2 for every bad input."""

import pytest

from mlplab.runs import Run

TINY = ["hidden=[32]", "epochs=2"]


def test_list_shows_experiments_and_datasets(cli):
    code, out, _ = cli("list")
    assert code == 0 and "classify" in out and "mnist" in out and "digits" in out
    code, out, _ = cli("list", "classify")
    assert code == 0 and "hidden" in out and "dropout" in out


def test_classify_on_digits_end_to_end(cli, trained, tmp_path):
    code, out, err, path = trained.command("classify")  # `mlplab run classify --out DIR`, made once a session
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(path)
    run = Run.open(trained.copy_command(tmp_path / "run", "classify"))  # its own copy: the page is rebuilt below
    metrics = run.metrics
    assert metrics["test_accuracy"] >= 0.95 and metrics["train_seconds"] > 0
    for name in (
        "config.yaml",
        "metrics.json",
        "metrics.jsonl",
        "env.json",
        "report.html",
        "checkpoints/best.pt",
        "checkpoints/last.pt",
        "figures/loss_curves.png",
        "figures/accuracy_curves.png",
        "figures/confusion_matrix.png",
        "arrays/predictions.npz",
    ):
        assert (run.path / name).is_file(), name
    html = (run.path / "report.html").read_text()
    assert "test_accuracy" in html and "figures/confusion_matrix.png" in html
    (run.path / "report.html").unlink()
    (run.path / "figures" / "confusion_matrix.png").unlink()
    code, out, _ = cli("report", str(run.path))
    assert (
        code == 0 and (run.path / "report.html").is_file() and (run.path / "figures" / "confusion_matrix.png").is_file()
    )


@pytest.mark.slow
def test_classify_on_real_mnist(cli, tmp_path, mnist_dir):
    code, out, err = cli(
        "run",
        "classify",
        "dataset=mnist",
        f"data_dir={mnist_dir}",
        "hidden=[256]",
        "epochs=3",
        "batch_size=64",
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 0, err
    assert Run.open(tmp_path / "run").metrics["test_accuracy"] >= 0.97


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "nosuch"], ["unknown experiment 'nosuch'"]),
        (["run", "classify", "dataset=imagenet"], ["unknown dataset 'imagenet'", "mnist"]),
        (["run", "classify", "colour=red"], ["unknown config key 'colour'"]),
        (["run", "classify", "epochs=many"], ["'epochs'", "'many'"]),
        (["run", "classify", "lr=0"], ["'lr'"]),
        (["run", "classify", "lr=-0.1"], ["'lr'"]),
        (["run", "classify", "epochs=0"], ["'epochs'"]),
        (["run", "classify", "batch_size=0"], ["'batch_size'"]),
        (["run", "classify", "hidden=[]"], ["'hidden'", "empty"]),
        (["run", "classify", "hidden=[0]"], ["'hidden'"]),
        (["run", "classify", "hidden=[-5,3]"], ["'hidden'"]),
        (["run", "classify", "device=tpu"], ["'device'"]),
        (["report", "."], ["not a run folder"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_bad_input_one_line_exit_2(cli, args, words):
    code, out, err = cli(*args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_missing_dataset_offline(cli, tmp_path):
    code, _, err = cli("run", "classify", "dataset=fashion-mnist", f"data_dir={tmp_path / 'empty'}")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte" in err and "FashionMNIST" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("config.yaml"))


def test_truncated_dataset_file(cli, tmp_path, mnist_dir):
    import shutil

    shutil.copytree(mnist_dir / "MNIST", tmp_path / "data" / "MNIST")
    f = tmp_path / "data" / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:5000])
    code, _, err = cli("run", "classify", "dataset=mnist", f"data_dir={tmp_path / 'data'}", *TINY)
    assert code == 2 and "truncated" in err and len(err.strip().splitlines()) == 1


def test_out_pointing_at_a_file(cli, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("precious")
    code, _, err = cli("run", "classify", *TINY, "--out", str(f))
    assert code == 2 and "is a file" in err
    assert f.read_text() == "precious"


def test_out_refuses_a_finished_run(cli, tmp_path):
    assert cli("run", "classify", *TINY, "--out", str(tmp_path / "r"))[0] == 0
    before = (tmp_path / "r" / "metrics.json").read_bytes()
    code, _, err = cli("run", "classify", *TINY, "--out", str(tmp_path / "r"))
    assert code == 2 and "not empty" in err
    assert (tmp_path / "r" / "metrics.json").read_bytes() == before


def test_resume_of_a_non_run(cli, tmp_path):
    code, _, err = cli("run", "classify", "--resume", str(tmp_path))
    assert code == 2 and "not a run folder" in err


def test_cuda_without_a_gpu(cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    code, _, err = cli("run", "classify", "device=cuda", *TINY)
    assert code == 2 and "no CUDA GPU" in err


def test_no_report_skips_the_figures_and_report_builds_them_later(cli, tmp_path):
    import json

    out = tmp_path / "r"
    code, stdout, err = cli("run", "classify", "hidden=[16]", "epochs=1", "--no-report", "--out", str(out))
    assert code == 0, err
    assert not (out / "report.html").exists() and not list((out / "figures").glob("*.png"))
    assert "report: not built (--no-report)" in stdout and f"mlplab report {out}" in stdout
    assert json.loads((out / "metrics.json").read_text())["test_accuracy"] > 0
    code, stdout, err = cli("report", str(out))
    assert code == 0 and (out / "report.html").is_file() and list((out / "figures").glob("*.png")), err
