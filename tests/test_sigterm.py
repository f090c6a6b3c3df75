"""SIGTERM (batch schedulers, `docker stop`, `kill`) stops `mlplab run` as Ctrl-C does (issue 23, item 8): whole
files, status.json `interrupted`, the resume command printed, exit code 143. A real process, a real signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LONG = ["hidden=[16]", "epochs=100000"]  # never finishes on its own: the signal ends it


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _epochs(run: Path) -> int:
    path = run / "metrics.jsonl"
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _terminate_after_epochs(proc: subprocess.Popen, run: Path, epochs: int) -> tuple[str, str]:
    deadline = time.monotonic() + 600  # a guard against a hang, not a timing assertion
    while time.monotonic() < deadline and proc.poll() is None and _epochs(run) < epochs:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    return out, err


@pytest.mark.parametrize("via", ["command", "python"])
def test_sigterm_stops_a_run_as_ctrl_c_does(tmp_path, via):
    run = tmp_path / "r"
    if via == "command":
        argv = [sys.executable, "-m", "mlplab", "run", "classify", *LONG, "--out", str(run)]
    else:  # mlplab.run in a script: the same handling, the signal arrives as an exception the script may catch
        script = (
            "import sys, mlplab\n"
            "try:\n"
            "    mlplab.run('classify', *sys.argv[2:], out=sys.argv[1], progress=False)\n"
            "except KeyboardInterrupt as exc:\n"
            "    print(type(exc).__name__, file=sys.stderr)\n"
            "    sys.exit(7)\n"
        )
        argv = [sys.executable, "-c", script, str(run), *LONG]
    proc = subprocess.Popen(argv, env=_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = _terminate_after_epochs(proc, run, 2)
    assert "Traceback" not in err and "internal error" not in err, err
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "interrupted" and status["ended"] and "SIGTERM" in status["error"]
    assert not list(run.rglob("*.tmp"))  # every file whole
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 2
    assert (run / "checkpoints" / "last.pt").is_file()
    if via == "command":
        assert proc.returncode == 143, err
        (line,) = err.strip().splitlines()[-1:]
        assert line == (
            f"mlplab: stopped by SIGTERM; every file in {run} is whole and its last checkpoint is kept: "
            f"resume with `mlplab run classify --resume {run}`"
        )
    else:
        assert proc.returncode == 7 and err.strip().splitlines()[-1] == "Terminated", err


def test_sigterm_handler_is_put_back_and_is_not_set_outside_the_main_thread():
    import threading

    from mlplab.signals import Terminated, sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at the next bytecode; never reached
    assert signal.getsignal(signal.SIGTERM) == before
    seen = []

    def other():
        with sigterm_as_interrupt():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [before]
