"""--engine ray: the study's workers as Ray tasks on a real two-node cluster on loopback; one study, the same
results file as the local engine writes."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray", reason="the Ray extra is not installed: pip install 'mlplab[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402

SPACE = ["lr=loguniform(1e-3,0.1)", "hidden=choice([16],[32])", "epochs=2", "knn_k=3"]


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 100 * 1024**2, "include_dashboard": False},
    )
    c.add_node(num_cpus=1, object_store_memory=100 * 1024**2)
    c.wait_for_nodes()
    yield c
    c.shutdown()


@pytest.mark.slow
def test_ray_cluster_runs_one_study_with_two_workers(cluster, cli, tmp_path):
    out = tmp_path / "s"
    code, stdout, err = cli(
        "tune", "classify", *SPACE, "--trials", "4", "--confirm-seeds", "2", "--pruner", "none",
        "--engine", "ray", "--address", cluster.address, "--workers", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "ray engine, 2 worker(s)" in stdout
    result = json.loads((out / "study.json").read_text())
    states = [r["state"] for r in result["trials"]]
    assert states.count("complete") >= 4 and set(states) == {"complete"}  # a worker may start one more
    assert len({json.dumps(r["params"], sort_keys=True) for r in result["trials"]}) == len(states)
    for r in result["trials"]:
        assert json.loads((out / r["run"] / "tune.json").read_text())["value"] == pytest.approx(r["value"])
    workers = {r["worker"].split(":")[0]: r["worker"] for r in result["trials"]}
    assert sorted(workers) == ["0", "1"] and len(set(workers.values())) == 2  # both tasks ran trials
    assert result["confirmation"]["seeds"] == [1, 2] and (out / "study.html").is_file()
    assert "Ray" not in err  # Ray's own console lines stay out of mlplab's output
