"""Resume after a kill: a real `mlplab tune` process is SIGKILLed in the middle of a trial; the same command then
continues the same study: the killed trial is failed and asked again with its parameters, no trial is lost and
none is counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SPACE = ["lr=loguniform(1e-3,0.1)", "hidden=choice([16],[32])", "epochs=3", "knn_k=3"]


def _trials(study_dir: Path):
    import optuna

    from mlplab.tune.storage import default_url, open_storage

    return optuna.load_study(study_name=study_dir.name, storage=open_storage(default_url(study_dir))).get_trials()


def test_killed_study_resumes_without_losing_or_double_counting(cli, tmp_path):
    out = tmp_path / "s"
    argv = ["tune", "classify", *SPACE, "--trials", "3", "--confirm-seeds", "0", "--pruner", "none", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-m", "mlplab", *argv], env=env, stderr=subprocess.PIPE, text=True)
    victim = out / "trials" / "0001" / "config.yaml"
    deadline = time.monotonic() + 300
    while not victim.is_file():  # trial 1 has started: trial 0 is done and recorded
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    import optuna

    before = _trials(out)
    assert [t.state for t in before] == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING]
    first = before[0]

    code, stdout, err = cli(*argv)
    assert code == 0, err
    assert "1 counted earlier; 1 interrupted trial(s) asked again" in stdout
    after = _trials(out)
    states = [t.state.name for t in after]
    assert states == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]  # 3 counted + the killed one, failed
    assert after[0].value == first.value and after[0].params == first.params  # trial 0 was not run again
    retried = [t for t in after if t.system_attrs.get("failed_trial") == 1]
    assert len(retried) == 1 and retried[0].params == before[1].params  # asked again with the same params
    assert not (out / "trials" / "0001").exists()  # the half-written folder of the killed trial is gone
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["0000", "0002", "0003"]
    rows = {r["trial"]: r["state"] for r in __import__("json").loads((out / "study.json").read_text())["trials"]}
    assert rows == {0: "complete", 1: "interrupted", 2: "complete", 3: "complete"}

    code, stdout, err = cli(*argv)  # a third time: nothing left to do, nothing asked again
    assert code == 0, err
    assert len(_trials(out)) == 4 and "3 counted earlier" in stdout and "asked again" not in stdout


@pytest.mark.parametrize("change", [["lr=loguniform(1e-3,0.2)"], ["lr=uniform(1e-3,0.1)"], ["hidden=choice([8])"]])
def test_resuming_with_another_space_is_refused_naming_the_keys(cli, tmp_path, change):
    out = tmp_path / "s"
    out.mkdir()
    import yaml

    (out / "tune.yaml").write_text(
        yaml.safe_dump(
            {
                "experiment": "classify",
                "space": ["lr=loguniform(0.001,0.1)", "hidden=choice([16],[32])"],
                "fixed": ["epochs=3", "knn_k=3"],
                "metric": "val_accuracy",
                "direction": "maximize",
                "pruner": "median",
                "command": "mlplab tune classify ...",
            }
        )
    )
    before = {p: p.read_bytes() for p in out.rglob("*")}
    key = change[0].split("=")[0]
    items = [i for i in SPACE if not i.startswith(key + "=")] + change
    code, _, err = cli("tune", "classify", *items, "--out", str(out))
    assert code == 2
    line = err.strip()
    assert line.startswith("mlplab: error: ") and "\n" not in line
    assert "holds a study with another space" in line and f"{key}: " in line
    assert {p: p.read_bytes() for p in out.rglob("*")} == before


def test_ctrl_c_in_a_trial_then_the_same_command_asks_it_again(cli, tmp_path, interrupt_after):
    out = tmp_path / "s"
    argv = ["tune", "classify", *SPACE, "--trials", "2", "--confirm-seeds", "0", "--pruner", "none", "--out", str(out)]
    undo = interrupt_after(None, 2)  # Ctrl-C in the first trial's second epoch
    code, _, err = cli(*argv)
    assert code == 130 and "run the same command again to resume the study" in err
    undo()
    code, stdout, err = cli(*argv)
    assert code == 0, err
    assert "1 interrupted trial(s) asked again" in stdout
    trials = _trials(out)
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert trials[1].params == trials[0].params and trials[1].system_attrs["failed_trial"] == 0
