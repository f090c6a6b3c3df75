"""Bad sweep input: one line, exit code 2, nothing written and no trial run."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["classify", "hiden=[32],[64]"], "unknown config key 'hiden'"),
        (["classify", "dropout="], "empty value list"),
        (["classify", "dropout=0.1,,0.2"], "empty value"),
        (["classify", "dropout=0.1,2.0", "seed=0,1"], "'dropout': 2.0 is out of range"),
        (["classify", "hidden=[32],[0]"], "'hidden'"),
        (["nosuch", "seed=0,1"], "nosuch"),
        (["classify", "seed=0,1", "--workers", "0"], "--workers 0 must be at least 1"),
        (["classify", "seed=0,1", "--engine", "dask"], "--engine 'dask' is not one of local, ray"),
        (["classify", "seed=0,1", "--address", "127.0.0.1:6379"], "add --engine ray"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    code, out, err = cli("sweep", *args)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no sweep folder, no trial


def test_ray_engine_without_ray_says_how_to_install(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    code, out, err = cli("sweep", "classify", "seed=0,1", "--engine", "ray")
    assert code == 2 and "pip install 'mlplab[ray]'" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_unreachable_address_is_refused_at_once(cli, tmp_path):
    pytest.importorskip("ray")
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    code, out, err = cli("sweep", "classify", "seed=0,1", "--engine", "ray", "--address", address)
    assert code == 2 and f"cannot reach a Ray cluster at {address}" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_another_sweep_is_refused(cli, tmp_path):
    from mlplab.sweeps.grid import parse_grid
    from mlplab.sweeps.runner import _open_folder

    _open_folder(tmp_path / "s", parse_grid("classify", ["seed=0,1"]), "mlplab sweep classify seed=0,1")
    code, out, err = cli("sweep", "classify", "seed=0,1,2", "--out", str(tmp_path / "s"))
    assert code == 2 and "holds another sweep (mlplab sweep classify seed=0,1)" in err
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["sweep.yaml"]


# ---- damaged sweep folders (issue 23): one line naming the file, exit 2, nothing changed ----------------------
def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"experiment: classify\naxes: {seed: ['0', '1'\n", "not valid YAML"),
        (b"\xff not text", "not UTF-8 text at byte 0"),
        (b"\xff\xfe\x00 not text", "not UTF-8 text at byte 0"),  # UTF-16 (with its byte-order mark) is not read
        (b"- a list\n- of things\n", "not an experiment name and axes"),
        (b"experiment: classify\naxes: [seed]\n", "not an experiment name and axes"),
        (b"experiment: classify\naxes: {seed: [0, 1]}\n", "not an experiment name and axes"),
        (b"experiment: [classify]\naxes: {seed: ['0', '1']}\n", "not an experiment name and axes"),
        (b"experiment: classify\naxes: {seed: ['0', '1']}\ncommand: {a: 1}\n", "not an experiment name and axes"),
    ],
)
def test_a_damaged_sweep_yaml_is_one_line_naming_it(cli, tmp_path, data, problem):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "sweep.yaml").write_bytes(data)
    code, out, err = cli("sweep", "classify", "seed=0,1", "--out", str(folder))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{folder / 'sweep.yaml'} is damaged ({problem}" in err and "give a new --out" in err
    assert _files(folder) == {folder / "sweep.yaml": data}


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"test_accuracy": 0.9', "not valid JSON"),
        ("\udcff", "not valid JSON"),
        ("[0.9, 0.8]", "a JSON list, not an object of metrics"),
        ('"0.9"', "a JSON str, not an object of metrics"),
        ('{"test_accuracy": "high"}', "test_accuracy is 'high', not a number"),
        ('{"test_accuracy": [0.9]}', "test_accuracy is [0.9], not a number"),
        ('{"test_accuracy": true}', "test_accuracy is True, not a number"),
        ('{"test_accuracy": 0.9, "loss": 1' + "0" * 400 + "}", "a number too large"),
        ('{"test_accuracy": 0.9, "loss": 1' + "0" * 5000 + "}", "not valid JSON"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "not valid JSON"),
    ],
)
def test_a_damaged_metrics_json_of_a_finished_trial_is_one_line_naming_it(
    cli, tmp_path, local_sweep, sw, text, problem
):
    out = tmp_path / "s"
    shutil.copytree(local_sweep, out)
    damaged = out / sw.ledger(out)[0]["run"] / "metrics.json"
    damaged.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = _files(out)
    code, stdout, err = cli("sweep", "classify", *sw.GRID, "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"mlplab: error: {damaged} is damaged ({problem}" in err and "redo that trial" in err
    assert _files(out) == before  # no trial ran, no summary rewritten


def test_damaged_ledger_lines_are_skipped_not_fatal(tmp_path):
    from mlplab.sweeps.ledger import Ledger

    good = {"id": "000", "status": "ok", "run": "trials/000-1", "overrides": ["seed=0"], "settings": {"seed": 0}}
    hostile = [
        "[1, 2]",
        '{"id": 5, "status": "ok", "run": "trials/x", "overrides": []}',
        '{"id": "001", "status": "ok", "run": 7, "overrides": []}',
        '{"id": "002", "status": "ok", "run": "trials/y", "overrides": "seed=1"}',
        '{"id": "003", "status": ["ok"], "run": "trials/y", "overrides": []}',
        '{"id": "004"',
        "[" * 5000,
        "\udcff",
    ]
    (tmp_path / "trials.jsonl").write_bytes(
        "\n".join([*hostile, json.dumps(good)]).encode("utf-8", "surrogateescape") + b"\n"
    )
    (tmp_path / "trials" / "000-1").mkdir(parents=True)
    (tmp_path / "trials" / "000-1" / "trial.json").write_text(json.dumps(good))
    ledger = Ledger(tmp_path, identify=lambda row: json.dumps(row.get("settings"), sort_keys=True))
    assert ledger.lines() == [good]
    assert ledger.finished() == {json.dumps({"seed": 0}): good}
