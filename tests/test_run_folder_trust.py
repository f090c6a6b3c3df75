"""Trust at the edges (issue 23): mlplab replaces only files it wrote, resumes only a run's own checkpoints,
removes only folders it made, and checks what it can before the first epoch."""

import json
import shutil

import pytest
import torch

from mlplab.runs import MARKER, Run

TINY = ["hidden=[32]", "epochs=2"]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlplab: error: ") and "Traceback" not in err, err
    return lines[0]


# ---- 3: `mlplab report` replaces only what mlplab wrote ------------------------------------------------
def test_report_leaves_a_users_index_html_beside_a_foreign_config(cli, tmp_path):
    mine = tmp_path / "project"
    (mine / "settings").mkdir(parents=True)
    (mine / "settings" / "config.yaml").write_text("name: my own tool\n")
    (mine / "index.html").write_text("<p>my homepage</p>")
    code, out, err = cli("report", str(mine))
    assert code == 2 and "not a run folder" in _one_error_line(err)
    assert (mine / "index.html").read_text() == "<p>my homepage</p>"


def test_report_leaves_a_users_index_html_even_beside_real_runs(cli, tmp_path, tiny_run):
    shutil.move(tiny_run, tmp_path / "runs" / "r")
    (tmp_path / "runs" / "index.html").write_text("<p>my notes</p>")
    code, out, err = cli("report", str(tmp_path / "runs"))
    line = _one_error_line(err)
    assert code == 2 and str(tmp_path / "runs" / "index.html") in line and "not written by mlplab" in line
    assert (tmp_path / "runs" / "index.html").read_text() == "<p>my notes</p>"


def test_report_leaves_a_report_html_beside_a_config_mlplab_did_not_write(cli, tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir()
    (folder / "config.yaml").write_text("experiment: classify\n")
    (folder / "report.html").write_text("<p>their report</p>")
    code, out, err = cli("report", str(folder))
    line = _one_error_line(err)
    assert code == 2 and str(folder / "report.html") in line and "not in a run folder made by mlplab" in line
    assert (folder / "report.html").read_text() == "<p>their report</p>"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "report.html"]


@pytest.mark.parametrize("keep", ["env.json", "status.json"])
def test_a_run_folder_of_an_earlier_mlplab_is_still_reported(cli, tiny_run, keep):
    """Earlier versions wrote no marker: their env.json or status.json (written only by mlplab) identify them."""
    (tiny_run / MARKER).unlink()
    (tiny_run / ({"env.json", "status.json"} - {keep}).pop()).unlink()
    (tiny_run / "report.html").unlink()
    code, out, err = cli("report", str(tiny_run))
    assert code == 0, err
    assert (tiny_run / "report.html").is_file()


def test_a_gallery_of_an_earlier_mlplab_is_still_replaced(cli, tmp_path, tiny_run):
    shutil.move(tiny_run, tmp_path / "runs" / "r")
    code, out, err = cli("report", str(tmp_path / "runs"))
    page = tmp_path / "runs" / "index.html"
    from mlplab.report.page.gallery import GALLERY_MARK

    page.write_text(page.read_text().replace(GALLERY_MARK, ""))  # as earlier versions wrote it
    code, out, err = cli("report", str(tmp_path / "runs"))
    assert code == 0, err
    assert GALLERY_MARK in page.read_text()


def test_a_users_index_html_in_runs_does_not_stop_a_run(cli, tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "index.html").write_text("<p>mine</p>")
    code, out, err = cli("run", "classify", *TINY)
    assert code == 0, err
    assert (tmp_path / "runs" / "index.html").read_text() == "<p>mine</p>"
    assert "gallery" in err and "not written by mlplab" in err


# ---- 4: a resume continues only the run's own checkpoints -----------------------------------------------
def test_resume_refuses_another_runs_checkpoint_of_the_same_model(cli, tmp_path, tiny_run):
    code, out, err = cli(
        "run", "--no-report", "classify", "hidden=[32]", "epochs=2", "lr=0.05", "seed=3", "--out", str(tmp_path / "b")
    )
    assert code == 0, err
    for name in ("last.pt", "best.pt"):
        shutil.copy(tmp_path / "b" / "checkpoints" / name, tiny_run / "checkpoints" / name)
    before = {p: p.read_bytes() for p in tiny_run.rglob("*") if p.is_file()}
    code, out, err = cli("run", "classify", "--resume", str(tiny_run), "epochs=3")
    line = _one_error_line(err)
    assert code == 2 and "belongs to another run" in line and str(tiny_run / "checkpoints") in line
    assert {p: p.read_bytes() for p in tiny_run.rglob("*") if p.is_file()} == before


def test_resume_refuses_a_checkpoint_written_under_another_config(cli, tiny_run):
    config = tiny_run / "config.yaml"
    config.write_text(config.read_text().replace("lr: 0.001", "lr: 0.05"))  # edited by hand after the run
    code, out, err = cli("run", "classify", "--resume", str(tiny_run), "epochs=3")
    assert code == 2 and "was written with another lr (0.001; config.yaml now says 0.05)" in _one_error_line(err)


def test_resume_refuses_an_unnamed_checkpoint_in_a_run_that_names_itself(cli, tiny_run):
    last = tiny_run / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    del state["run_id"], state["run_config"]
    torch.save(state, last)
    code, out, err = cli("run", "classify", "--resume", str(tiny_run), "epochs=3")
    assert code == 2 and "names no run" in _one_error_line(err)


def test_resume_of_a_run_of_an_earlier_mlplab_still_works(cli, tiny_run):
    (tiny_run / MARKER).unlink()
    for ckpt in (tiny_run / "checkpoints").glob("*.pt"):
        state = torch.load(ckpt, weights_only=True)
        del state["run_id"], state["run_config"]
        torch.save(state, ckpt)
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(tiny_run), "epochs=3")
    assert code == 0, err
    assert [r["epoch"] for r in Run.open(tiny_run).history] == [1, 2, 3]


def test_resume_of_its_own_checkpoints_goes_on(cli, tiny_run):
    run_id = json.loads((tiny_run / MARKER).read_text())["run_id"]
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(tiny_run), "epochs=3")
    assert code == 0, err
    assert torch.load(tiny_run / "checkpoints" / "last.pt", weights_only=True)["run_id"] == run_id
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(tiny_run), "epochs=4")  # resumed twice
    assert code == 0, err


# ---- 6: a refused run removes only what mlplab made -------------------------------------------------
def test_a_refused_run_keeps_the_users_empty_out_folder(cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    code, out_text, err = cli("run", "classify", "hidden=[32]", "epochs=1", "image_size=1", "--out", str(out))
    assert code == 2 and "single pixel" in err
    assert out.is_dir() and list(out.iterdir()) == []


def test_a_refused_run_removes_the_parents_it_made_and_only_those(cli, tmp_path):
    (tmp_path / "runs").mkdir()  # there before: kept
    code, out, err = cli("run", "classify", "image_size=1", "epochs=1")
    assert code == 2
    assert (tmp_path / "runs").is_dir() and list((tmp_path / "runs").iterdir()) == []
    code, out, err = cli("run", "classify", "image_size=1", "epochs=1", "--out", str(tmp_path / "a" / "b" / "c"))
    assert code == 2 and not (tmp_path / "a").exists()


# ---- checks that need only the config and the data run before the first epoch ----------------------------
def test_tensorboard_without_its_package_is_refused_before_training(cli, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as where the package is not installed
    code, out, err = cli("run", "classify", *TINY, "tensorboard=true", "--out", str(tmp_path / "r"))
    assert code == 2 and "needs the tensorboard package" in _one_error_line(err)  # no epoch line before it
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("experiment", ["classify", "explore"])
def test_a_knn_k_larger_than_the_data_is_refused_before_training(cli, tmp_path, experiment):
    code, out, err = cli("run", experiment, *(TINY if experiment == "classify" else []), "knn_k=100000")
    assert code == 2 and "config key 'knn_k': k=100000" in _one_error_line(err)  # no epoch line before it
    assert not (tmp_path / "runs").exists()


def test_a_resume_may_change_the_analysis_keys_that_made_a_run_fail(cli, tiny_run):
    """`layers` and `knn_k` are read only by the analysis after training, which a resume redoes: a run whose
    analysis failed on them (as earlier versions let happen) is finished by a resume that changes them."""
    status = json.loads((tiny_run / "status.json").read_text())
    (tiny_run / "status.json").write_text(json.dumps({**status, "status": "failed", "error": "UserError: k=..."}))
    weights = (tiny_run / "checkpoints" / "last.pt").read_bytes()
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(tiny_run), "knn_k=3", "layers=[act1]")
    assert code == 0, err
    run = Run.open(tiny_run)
    assert run.config["knn_k"] == 3 and run.config["layers"] == ["act1"] and run.status["status"] == "finished"
    assert [r["layer"] for r in run.load_table("layer_separability")] == ["input", "act1"]
    assert (tiny_run / "checkpoints" / "last.pt").read_bytes() == weights  # no epoch was trained again


# ---- damaged run folders of valid syntax: a warning naming the file, the page still built ---------------------
def _npz(**arrays) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


VALID_BUT_WRONG = [
    ("status.json", '{"status": "finished", "seconds": "ten"}'),
    ("status.json", '{"status": "finished", "seconds": Infinity}'),
    ("status.json", "[1, 2]"),
    ("metrics.json", '{"a": ' + "[" * 900 + "]" * 900 + "}"),
    ("tables/per_class.csv", "class,precision\n0," + "9" * 200000 + "\n"),
    ("arrays/predictions.npz", "npz-wrong-keys"),
    ("arrays/layers.npz", "npz-wrong-keys"),
    ("config.yaml", "experiment: classify\ndataset: digits\nknn_k: ten\nhidden: [32]\n"),
]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    import mlplab

    folder = tmp_path_factory.mktemp("healthy") / "r"
    mlplab.run("classify", *TINY, out=folder, progress=False)
    return folder


@pytest.mark.parametrize("name, content", VALID_BUT_WRONG, ids=[f"{n}:{c[:30]}" for n, c in VALID_BUT_WRONG])
def test_report_warns_about_valid_but_wrong_files_and_builds_the_page(cli, tmp_path, healthy, name, content):
    run = tmp_path / "runs" / "r"
    shutil.copytree(healthy, run)
    (run / "report.html").unlink()
    data = _npz(a=[1, 2, 3]) if content == "npz-wrong-keys" else content.encode()
    (run / name).write_bytes(data)
    code, out, err = cli("report", str(run))
    assert code == 0 and "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("mlplab: warning: ") for line in lines), err
    assert any(str(run / name) in line for line in lines), err
    assert (run / "report.html").is_file()
    _gallery_is_built(cli, tmp_path)


@pytest.mark.parametrize(
    "name, content",
    [
        ("metrics.json", '{"test_accuracy": Infinity, "train_seconds": Infinity}'),  # json.dumps writes inf so
        ("tables/per_class.csv", "class,precision,recall,support\n0,1\n"),  # a table the page only shows
    ],
)
def test_report_shows_odd_but_harmless_files_as_they_are(cli, tmp_path, healthy, name, content):
    run = tmp_path / "runs" / "r"
    shutil.copytree(healthy, run)
    (run / name).write_text(content)
    code, out, err = cli("report", str(run))
    assert code == 0 and all(line.startswith("mlplab: warning: ") for line in err.strip().splitlines()), err
    assert (run / "report.html").is_file()
    _gallery_is_built(cli, tmp_path)


def _gallery_is_built(cli, tmp_path):
    code, out, err = cli("report", str(tmp_path / "runs"))  # the gallery too
    assert code == 0 and (tmp_path / "runs" / "index.html").is_file() and "internal error" not in err, err


def test_a_damaged_sibling_run_does_not_stop_a_new_run(cli, tmp_path, healthy):
    shutil.copytree(healthy, tmp_path / "runs" / "classify" / "old")
    code, out, err = cli("report", "runs")  # the gallery exists: `mlplab run` refreshes it before training
    assert code == 0, err
    (tmp_path / "runs" / "classify" / "old" / "status.json").write_text('{"status": "finished", "seconds": "x"}')
    code, out, err = cli("run", "classify", *TINY)
    assert code == 0, err
    assert "gallery: runs/index.html" in out


def test_a_run_page_links_back_only_to_a_gallery_mlplab_wrote(cli, tmp_path, healthy):
    shutil.copytree(healthy, tmp_path / "site" / "r")
    (tmp_path / "site" / "index.html").write_text("<p>my site</p>")
    code, out, err = cli("report", str(tmp_path / "site" / "r"))
    assert code == 0, err
    assert "all runs" not in (tmp_path / "site" / "r" / "report.html").read_text()
