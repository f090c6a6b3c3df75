"""The Python API: the command's run folders, validation and messages, from `mlplab.run` and friends."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import mlplab
from mlplab import runs
from mlplab.experiments.classify import ClassifyConfig

TINY_TEXT = ["hidden=[32]", "epochs=2", "lr=2e-3", "dropout=0"]
TINY = dict(hidden=[32], epochs=2, lr=2e-3, dropout=0)  # the same settings as Python values
TIMING = ("train_seconds", "epoch_seconds", "seconds")


def _untimed(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not any(k.endswith(t) for t in TIMING)}


@pytest.fixture(scope="module")
def api_run(tmp_path_factory) -> mlplab.Run:
    """One tiny classify run made through the API, shared by the read-only tests below."""
    return mlplab.run("classify", out=tmp_path_factory.mktemp("api") / "run", progress=False, **TINY)


def test_api_run_gives_the_same_folder_as_the_command(api_run, cli, tmp_path):
    code, out, err = cli("run", "classify", *TINY_TEXT, "--out", str(tmp_path / "cli"))
    assert code == 0, err
    by_cli = runs.Run.open(tmp_path / "cli")
    assert _untimed(api_run.metrics) == _untimed(by_cli.metrics)
    assert api_run.metrics["test_accuracy"] > 0  # numbers, not an empty dict on both sides
    assert (api_run.path / "config.yaml").read_text() == (by_cli.path / "config.yaml").read_text()
    assert [_untimed(r) for r in api_run.history] == [_untimed(r) for r in by_cli.history]
    assert sorted(p.name for p in api_run.figures) == sorted(p.name for p in (by_cli.path / "figures").glob("*.png"))
    assert api_run.report.is_file()
    # what `mlplab run` prints is the API's main_numbers, then the report and the folder
    lines = out.strip().splitlines()
    assert lines[-1] == str(tmp_path / "cli") and lines[-2] == f"report: {tmp_path / 'cli' / 'report.html'}"
    assert [line.split(":")[0] for line in lines[:-2]] == list(api_run.main_numbers())


def test_key_value_texts_and_python_values_make_the_same_config(tmp_path):
    by_text = mlplab.config_of("dreams", lambda_l2=0.1, targets=(3, 8), hidden=np.array([16]), epochs=np.int64(2))
    from mlplab.config import parse_overrides
    from mlplab.experiments.dreams.dreams import DreamsConfig

    assert by_text == parse_overrides(DreamsConfig, ["lambda_l2=0.1", "targets=[3,8]", "hidden=[16]", "epochs=2"])
    assert type(by_text.epochs) is int and by_text.hidden == [16] and by_text.targets == [3, 8]
    cfg = mlplab.config_of("classify", lr=1, hidden=64)  # an int where a float goes, one number for a list
    assert cfg.lr == 1.0 and type(cfg.lr) is float and cfg.hidden == [64]


def test_open_round_trips(api_run):
    again = mlplab.open(api_run.path)
    assert isinstance(again, mlplab.Run) and again.path == api_run.path
    assert again.metrics == json.loads((api_run.path / "metrics.json").read_text())
    config = yaml.safe_load((api_run.path / "config.yaml").read_text())
    assert again.config == {k: v for k, v in config.items() if k != "experiment"} and again.experiment == "classify"
    assert again.config["hidden"] == [32] and again.config["epochs"] == 2
    assert len(again.history) == 2 and [r["epoch"] for r in again.history] == [1, 2]
    assert again.array_names and "predictions" in again.array_names
    for name in again.array_names:
        saved = np.load(api_run.path / "arrays" / f"{name}.npz")
        got = again.arrays(name)
        assert set(got) == set(saved.files) and all(np.array_equal(got[k], saved[k]) for k in got)
    assert again.figures == sorted((api_run.path / "figures").glob("*.png")) and again.figures
    assert mlplab.open(again).path == again.path  # a Run is a path-like too


def test_history_frame(api_run, monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = api_run.history_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame["epoch"]) == [1, 2]
    assert frame["train_loss"].tolist() == [r["train_loss"] for r in api_run.history]
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match=r"pip install pandas.*Run.history"):
        api_run.history_frame()


# the command's arguments, and the same bad input from Python
BAD = [
    (["nosuch"], lambda: mlplab.run("nosuch")),
    (["classify", "colour=red"], lambda: mlplab.run("classify", colour="red")),
    (["classify", "epochs=many"], lambda: mlplab.run("classify", epochs="many")),
    (["classify", "lr=0"], lambda: mlplab.run("classify", lr=0)),
    (["classify", "hidden=[]"], lambda: mlplab.run("classify", hidden=[])),
    (["classify", "hidden=[-5,3]"], lambda: mlplab.run("classify", hidden=(-5, 3))),
    (["classify", "device=tpu"], lambda: mlplab.run("classify", device="tpu")),
    (["classify", "dataset=imagenet"], lambda: mlplab.run("classify", dataset="imagenet")),
    (["classify", "epochs"], lambda: mlplab.run("classify", "epochs")),
    (["classify", "--resume", "nowhere"], lambda: mlplab.run("classify", resume="nowhere")),
    (["classify", "--out", "afile"], lambda: mlplab.run("classify", out="afile")),
    (["dreams", "targets=[12]", "hidden=[8]"], lambda: mlplab.run("dreams", targets=[12], hidden=[8])),
]


@pytest.mark.parametrize("args, call", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_raises_config_error_with_the_commands_line(cli, capsys, tmp_path, args, call):
    Path("afile").write_text("not a folder")
    code, _, err = cli("run", *args)
    assert code == 2 and err.startswith("mlplab: error: ")
    with pytest.raises(mlplab.ConfigError) as caught:
        call()
    assert f"mlplab: error: {caught.value}\n" == err
    assert capsys.readouterr() == ("", "")  # the API printed nothing
    assert not Path("runs").exists()  # and left no run folder behind


def test_config_error_is_the_commands_error_and_not_an_exit():
    from mlplab.errors import UserError

    assert mlplab.ConfigError is UserError and not issubclass(mlplab.ConfigError, SystemExit)
    with pytest.raises(mlplab.ConfigError, match="not a run folder"):
        mlplab.open(".")
    with pytest.raises(mlplab.ConfigError, match="experiment name"):
        mlplab.run(["classify"])


def test_config_of_and_list_experiments():
    names = mlplab.list_experiments()
    assert "classify" in names and "dreams" in names and all(isinstance(d, str) and d for d in names.values())
    cfg = mlplab.config_of("classify")
    assert cfg == ClassifyConfig() and dataclasses.is_dataclass(cfg)
    text = cfg.help()
    for f in dataclasses.fields(ClassifyConfig):
        assert f"  {f.name} " in text and (f.metadata.get("help") or "") in text


def test_import_mlplab_is_cheap_and_exports_lazily():
    code = (
        "import sys, mlplab; assert 'torch' not in sys.modules and 'mlplab.api' not in sys.modules; "
        "assert callable(mlplab.run) and 'torch' not in sys.modules; "
        "assert {'run', 'open', 'config_of', 'ConfigError'} <= set(dir(mlplab))"
    )
    src = str(Path(mlplab.__file__).parents[1])
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src, "PATH": ""})
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        mlplab.nosuch  # noqa: B018  (the attribute lookup is what raises)


HOSTILE = "<script>alert('x')</script>&\"'"


def test_repr_html_escapes_every_string(tmp_path):
    from PIL import Image

    folder = tmp_path / "a<b>&'\""
    run = runs.Run.create(HOSTILE, {"note": HOSTILE}, out=folder)
    run.save_metrics({HOSTILE: 0.5, "accuracy": 0.25, "text": HOSTILE})
    Image.new("RGB", (600, 300), (200, 10, 10)).save(run.path / "figures" / "x'><img src=y onerror=alert(1)>.png")
    (run.path / "report.html").write_text("<html></html>")
    page = mlplab.open(folder)._repr_html_()
    assert "<script" not in page and "onerror=alert(1)>" not in page and "<img src=y" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;&#x27;" in page  # name and metric key
    assert "a&lt;b&gt;&amp;&#x27;&quot;" in page  # the folder
    assert "<th style='text-align:left'>accuracy</th><td>0.25</td>" in page
    assert page.count("<img src='data:image/png;base64,") == 1  # the figure as a small thumbnail
    assert "report.html</a>" in page


def test_progress_is_decided_per_call(monkeypatch):
    from mlplab import progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress.enabled() is False  # no terminal, no notebook: no bars
    with progress.showing(True):
        assert progress.enabled() is True
        with progress.showing(False):
            assert progress.enabled() is False
    assert progress.enabled() is False
    assert list(progress.bar(range(3), disable=True)) == [0, 1, 2]
