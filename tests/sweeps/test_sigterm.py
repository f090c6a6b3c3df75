"""SIGTERM stops a sweep as Ctrl-C does (issue 23, item 8): to the sweep process alone (`docker stop`, `kill PID`)
or to its whole process group (a batch scheduler): finished trials kept, the running ones' folders whole and
marked `interrupted`, no worker left behind, the resume command printed, exit code 143."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GRID = ["hidden=[16]", "epochs=1,100000", "seed=0"]  # one trial finishes at once, the other only by the signal


def _rows(run: Path) -> int:
    path = run / "metrics.jsonl"
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _session(sid: int) -> list[str]:
    """The command lines of the processes still running in session `sid`."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if os.getsid(int(entry.name)) == sid and state != "Z":  # a zombie has exited, not yet reaped
                    alive.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                pass
    return alive


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
@pytest.mark.parametrize("to", ["sweep", "group"])
def test_sigterm_stops_a_sweep_as_ctrl_c_does(tmp_path, sw, to):
    out = tmp_path / "s"
    argv = ["mlplab", "sweep", "classify", *GRID, "--workers=2", f"--out={out}", "--no-report"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", *argv], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 600  # a guard against a hang, not a timing assertion
    long_run = None
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "trials.jsonl").is_file() and len(sw.ledger(out)) == 1:
            done = sw.ledger(out)[0]["run"]
            runs = [p for p in (out / "trials").iterdir() if p.name != Path(done).name]
            if runs and _rows(runs[0]) >= 2:
                long_run = runs[0]
                break
        time.sleep(0.05)
    assert long_run is not None and proc.poll() is None, proc.communicate()
    if to == "sweep":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.strip().splitlines()[-1] == (
        f"mlplab: sweep stopped by SIGTERM; finished trials are kept: resume with `{shlex.join(argv)}`"
    )
    gone = time.monotonic() + 60  # a worker in the middle of exiting (empty cmdline) is given time to finish
    while _session(proc.pid) and time.monotonic() < gone:
        time.sleep(0.1)
    assert _session(proc.pid) == []  # no worker left running
    (line,) = sw.ledger(out)  # the finished trial is kept, the stopped one is not recorded as finished
    assert line["status"] == "ok" and line["settings"]["epochs"] == 1
    status = json.loads((long_run / "status.json").read_text())
    assert status["status"] == "interrupted" and "SIGTERM" in status["error"]
    assert not list(out.rglob("*.tmp"))
    assert not (long_run / "trial.json").exists()
