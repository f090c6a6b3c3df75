"""The local engine: summary numbers against the six runs' own metrics.json, a dying worker, resume after a kill."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from scipy import stats

REPO = Path(__file__).resolve().parents[2]


def test_summary_equals_mean_and_std_of_the_runs(local_sweep: Path, sw):
    by_dropout: dict[str, list[dict]] = {}
    for run in sorted((local_sweep / "trials").iterdir()):
        config = yaml.safe_load((run / "config.yaml").read_text())
        by_dropout.setdefault(str(config["dropout"]), []).append(json.loads((run / "metrics.json").read_text()))
    assert sorted(by_dropout) == ["0.0", "0.1"] and all(len(v) == 3 for v in by_dropout.values())
    summary = sw.summary(local_sweep)
    assert summary["main_metric"] == {"name": "test_accuracy", "goal": "max"}
    assert summary["trials"] == summary["ok"] == 6
    entries = {float(e["point"]["dropout"]): e for e in summary["points"]}
    for dropout, runs in by_dropout.items():
        entry = entries[float(dropout)]
        assert entry["n"] == 3 and sorted(entry["seeds"]) == ["0", "1", "2"]
        for name in ("test_accuracy", "test_loss", "macro_recall"):
            values = [r[name] for r in runs]
            mean, std = statistics.mean(values), statistics.stdev(values)
            half = stats.t.ppf(0.975, df=2) * std / math.sqrt(3)
            got = entry["metrics"][name]
            assert got["mean"] == pytest.approx(mean, rel=1e-12)
            assert got["std"] == pytest.approx(std, rel=1e-9)
            assert (got["ci_low"], got["ci_high"]) == pytest.approx((mean - half, mean + half), rel=1e-9)
        nested = [r["recall_per_class"]["3"] for r in runs]
        assert entry["metrics"]["recall_per_class.3"]["mean"] == pytest.approx(statistics.mean(nested))
    means = [e["metrics"]["test_accuracy"]["mean"] for e in summary["points"]]
    assert means == sorted(means, reverse=True) and [e["rank"] for e in summary["points"]] == [1, 2]


def test_summary_files_agree(local_sweep: Path, sw):
    summary = sw.summary(local_sweep)
    with open(local_sweep / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["dropout"] for r in rows] == [e["point"]["dropout"] for e in summary["points"]]
    for row, entry in zip(rows, summary["points"], strict=True):
        assert float(row["test_accuracy_mean"]) == entry["metrics"]["test_accuracy"]["mean"]
        assert float(row["test_loss_ci_high"]) == entry["metrics"]["test_loss"]["ci_high"]
        assert row["n_seeds"] == "3"
    page = (local_sweep / "summary.html").read_text()
    assert "Ranked by <b>test_accuracy</b>" in page and "summary.png" in page
    assert (local_sweep / "summary.png").stat().st_size > 1000
    spec = yaml.safe_load((local_sweep / "sweep.yaml").read_text())
    assert spec["axes"]["dropout"] == ["0", "0.1"] and spec["trials"] == 6
    lines = sw.ledger(local_sweep)
    assert sorted(r["id"] for r in lines) == [f"{i:03d}" for i in range(6)]
    for r in lines:  # each trial an ordinary run folder that `mlplab report` can rebuild
        assert (local_sweep / r["run"] / "report.html").is_file()


def test_a_killed_worker_is_replaced_and_its_trial_runs_again(tmp_path, monkeypatch, local_sweep, sw):
    from mlplab.sweeps import sweep

    marker = tmp_path / "crashed"
    monkeypatch.setenv("MLPLAB_SWEEP_TEST_CRASH", str(marker))  # the first trial SIGKILLs its own worker
    result = sweep("classify", sw.GRID, workers=2, out=tmp_path / "s", report=False)
    assert marker.is_file()
    killed = int(marker.read_text())
    lines = sw.ledger(tmp_path / "s")
    assert sorted(r["id"] for r in lines) == [f"{i:03d}" for i in range(6)]
    assert all(r["status"] == "ok" and r["pid"] != killed for r in lines)
    assert len(list((tmp_path / "s" / "trials").iterdir())) == 6  # the dead attempt's folder is gone
    assert [e["n"] for e in result.summary["points"]] == [3, 3]
    assert sw.means(result.summary) == sw.means(sw.summary(local_sweep))  # same seeds, same numbers


def test_resume_after_the_sweep_itself_is_killed(tmp_path, cli, local_sweep, sw):
    out = tmp_path / "s"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlplab",
            "sweep",
            "classify",
            *sw.GRID,
            "--workers",
            "1",
            "--out",
            str(out),
            "--no-report",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600  # a guard against a hang, not a timing assertion
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "trials.jsonl").is_file() and len(sw.ledger(out)) >= 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {r["id"]: r for r in sw.ledger(out)}
    assert 2 <= len(before) < 6
    stamps = {i: (out / r["run"] / "trial.json").stat().st_mtime_ns for i, r in before.items()}
    time.sleep(1)  # let the orphaned worker notice its parent is gone
    # a trial the orphaned worker finished in that second (its trial.json written) counts as finished too
    finished = len(list(out.glob("trials/*/trial.json")))
    assert len(before) <= finished <= len(before) + 1
    code, stdout, err = cli("sweep", "classify", *sw.GRID, "--workers", "2", "--out", str(out), "--no-report")
    assert code == 0, err
    assert f"{finished} finished earlier, skipped" in err
    lines = sw.ledger(out)
    assert sorted(r["id"] for r in lines) == [f"{i:03d}" for i in range(6)]  # each trial once
    for i, r in before.items():  # finished trials were not run again
        assert lines[[x["id"] for x in lines].index(i)] == r
        assert (out / r["run"] / "trial.json").stat().st_mtime_ns == stamps[i]
    assert len(list((out / "trials").iterdir())) == 6
    assert [e["n"] for e in sw.summary(out)["points"]] == [3, 3]
    assert sw.means(sw.summary(out)) == sw.means(sw.summary(local_sweep))
    # --no-report: the trials have no page, and the summary links each trial's folder instead
    page = (out / "summary.html").read_text()
    for r in lines:
        assert not (out / r["run"] / "report.html").exists() and (out / r["run"] / "metrics.json").is_file()
        assert f"href='{r['run']}/'" in page and f"{r['run']}/report.html" not in page


def test_a_trial_that_fails_by_itself_is_recorded_once_and_not_retried(cli, tmp_path, sw):
    grid = ["hidden=[32]", "epochs=2", "optimizer=sgd", "lr=1e-2,1e12", "seed=0"]  # lr=1e12: the loss turns NaN
    code, out, err = cli("sweep", "classify", *grid, "--workers", "2", "--out", str(tmp_path / "s"), "--no-report")
    assert code == 1 and "1 of 2 trials failed" in err
    lines = sw.ledger(tmp_path / "s")
    assert sorted((r["id"], r["status"]) for r in lines) == [("000", "ok"), ("001", "failed")]
    failed = next(r for r in lines if r["status"] == "failed")
    assert "nan" in failed["error"] and "lower lr" in failed["error"]
    assert sorted(p.name for p in (tmp_path / "s" / "logs").iterdir()) == ["000-1.txt", "001-1.txt"]  # one attempt
    summary = sw.summary(tmp_path / "s")
    bad = next(e for e in summary["points"] if e["point"] == {"lr": "1e12"})
    assert bad["n"] == 0 and bad["failed"][0]["error"] == failed["error"] and bad["rank"] == 2
    code, out, err = cli("sweep", "classify", *grid, "--out", str(tmp_path / "s"))  # resume: nothing to run
    assert code == 1 and "2 finished earlier, skipped" in err and len(sw.ledger(tmp_path / "s")) == 2


def test_progress_lines_count_down(capsys):
    import io

    from mlplab.sweeps.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream in (io.StringIO(), Terminal()):
        progress = Progress(total=4, already=1, main="test_accuracy", stream=stream)
        record = {"id": "002", "overrides": ["lr=0.1", "seed=2"], "status": "ok", "seconds": 1.5}
        progress.update(record, {"test_accuracy": 0.9375})
        progress.update({**record, "id": "003", "status": "failed", "error": "loss became nan"}, {})
        progress.close()
        text = stream.getvalue()
        assert "[2/4] trial 002 lr=0.1 seed=2: ok test_accuracy 0.9375 (1.5s) | 2 left, ETA " in text
        assert "[3/4] trial 003 lr=0.1 seed=2: failed: loss became nan (1.5s) | 1 left, ETA " in text
