"""The Ray engine on a real two-node cluster on loopback: the local summary again, despite a killed worker."""

from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray", reason="the Ray extra is not installed: pip install 'mlplab[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node and one worker node (one CPU each); every worker process sees the crash hook."""
    marker = tmp_path_factory.mktemp("ray") / "crashed"
    saved = os.environ.get("MLPLAB_SWEEP_TEST_CRASH")
    os.environ["MLPLAB_SWEEP_TEST_CRASH"] = str(marker)  # raylets and their workers inherit it
    try:
        c = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "object_store_memory": 100 * 1024**2, "include_dashboard": False},
        )
        c.add_node(num_cpus=1, object_store_memory=100 * 1024**2)
        c.wait_for_nodes()
    finally:
        if saved is None:
            os.environ.pop("MLPLAB_SWEEP_TEST_CRASH", None)
        else:
            os.environ["MLPLAB_SWEEP_TEST_CRASH"] = saved
    yield c, marker
    c.shutdown()


@pytest.mark.slow
def test_ray_cluster_gives_the_local_summary_despite_a_killed_worker(cluster, cli, tmp_path, local_sweep, sw):
    c, marker = cluster
    code, stdout, err = cli(
        "sweep", "classify", *sw.GRID, "--engine", "ray", "--address", c.address, "--out", str(tmp_path / "s")
    )
    assert code == 0, err
    assert marker.is_file()  # one trial's worker process was SIGKILLed and Ray ran the trial again
    lines = sw.ledger(tmp_path / "s")
    assert sorted(r["id"] for r in lines) == [f"{i:03d}" for i in range(6)]  # every trial exactly once
    assert all(r["status"] == "ok" and r["pid"] != int(marker.read_text()) for r in lines)
    assert len({r["node"] for r in lines}) == 2  # both nodes ran trials
    assert len(list((tmp_path / "s" / "trials").iterdir())) == 6
    ray_summary, local = sw.summary(tmp_path / "s"), sw.summary(local_sweep)
    assert [e["n"] for e in ray_summary["points"]] == [3, 3]
    assert [e["point"] for e in ray_summary["points"]] == [e["point"] for e in local["points"]]
    for got, want in zip(ray_summary["points"], local["points"], strict=True):
        for name in ("test_accuracy", "test_loss", "best_val_accuracy", "macro_precision"):
            assert got["metrics"][name] == pytest.approx(want["metrics"][name], rel=1e-9)
    assert "Ray" not in err.replace("ray engine", "")  # Ray's own console lines stay out of mlplab's output
