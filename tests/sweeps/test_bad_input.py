"""Bad sweep input: one line, exit code 2, nothing written and no trial run."""

from __future__ import annotations

import socket
import sys

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
