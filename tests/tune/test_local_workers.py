"""--workers K on the local engine: K spawned processes, each a worker loop on the same SQLite study."""

from __future__ import annotations

import json

import pytest

SPACE = ["lr=loguniform(1e-3,0.1)", "hidden=choice([16],[32])", "epochs=2", "knn_k=3"]


@pytest.mark.slow
def test_two_local_worker_processes_share_the_sqlite_study(cli, tmp_path):
    out = tmp_path / "s"
    argv = ["tune", "classify", *SPACE, "--trials", "4", "--confirm-seeds", "0", "--pruner", "none"]
    code, stdout, err = cli(*argv, "--workers", "2", "--out", str(out))
    assert code == 0, err
    result = json.loads((out / "study.json").read_text())
    assert [r["state"] for r in result["trials"]].count("complete") >= 4
    workers = {r["worker"].split(":")[0] for r in result["trials"]}
    pids = {r["worker"].split(":")[2] for r in result["trials"]}
    assert workers == {"0", "1"} and len(pids) == 2  # both processes ran trials
    assert len({json.dumps(r["params"], sort_keys=True) for r in result["trials"]}) == len(result["trials"])
    assert sorted(p.name for p in (out / "trials").iterdir()) == [r["run"].split("/")[1] for r in result["trials"]]
