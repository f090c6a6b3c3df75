"""--storage postgresql://: one study shared by two study folders (two machines), against a real PostgreSQL server
(a throw-away cluster this test starts; skipped, with the reason, where it cannot)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

SPACE = ["lr=loguniform(1e-3,0.1)", "hidden=choice([16],[32])", "epochs=2", "knn_k=3"]


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as `nobody`."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    return ["runuser", "-u", "nobody", "--", *argv]


@pytest.fixture(scope="module")
def postgres_url():
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'mlplab[tune]'")
    bindir = _bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="mlplab-pg-"))
    os.chmod(root, 0o777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    init = subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options]
    start = subprocess.run(_as_owner([*ctl, "-w", "start"]), capture_output=True, text=True)
    if start.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {start.stderr.strip()[-200:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_two_study_folders_share_one_study_on_postgresql(cli, tmp_path, postgres_url):
    import optuna

    from mlplab.tune.storage import open_storage

    common = ["--confirm-seeds", "0", "--pruner", "none", "--storage", postgres_url]
    code, out_a, err = cli(
        "tune", "classify", *SPACE, "--trials", "2", "--out", str(tmp_path / "a" / "shared"), *common
    )
    assert code == 0, err
    code, out_b, err = cli(
        "tune", "classify", *SPACE, "--trials", "4", "--out", str(tmp_path / "b" / "shared"), *common
    )
    assert code == 0, err
    assert "2 counted earlier" in out_b and "postgresql://postgres@127.0.0.1" in out_b
    study = optuna.load_study(study_name="shared", storage=open_storage(postgres_url))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    assert [t.user_attrs["run"] for t in study.trials] == [f"trials/{n:04d}" for n in range(4)]
    assert sorted(p.name for p in (tmp_path / "a" / "shared" / "trials").iterdir()) == ["0000", "0001"]
    assert sorted(p.name for p in (tmp_path / "b" / "shared" / "trials").iterdir()) == ["0002", "0003"]
    assert not (tmp_path / "b" / "shared" / "study.db").exists()  # no SQLite beside the shared database
    result = json.loads((tmp_path / "b" / "shared" / "study.json").read_text())
    assert [r["trial"] for r in result["trials"]] == [0, 1, 2, 3]
    assert result["best"]["value"] == max(t.value for t in study.trials)

    # another space under the same study name, from a third folder: refused by the database's own record
    other = ["lr=loguniform(1e-3,0.2)", *SPACE[1:]]
    code, _, err = cli("tune", "classify", *other, "--trials", "4", "--out", str(tmp_path / "c" / "shared"), *common)
    assert code == 2 and err.count("\n") == 1
    assert "the study 'shared' in the database holds a study with another space (lr: " in err
    assert not (tmp_path / "c" / "shared").exists()  # no half-made study folder
