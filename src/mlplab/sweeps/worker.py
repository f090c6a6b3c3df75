"""One trial, in a worker process: `execute` (the code path of `mlplab run`) into a fresh run folder."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import signal
import time
from pathlib import Path
from typing import Any

from mlplab.sweeps.metrics import flatten_numeric, main_metric

TRIALS_DIR, LOGS_DIR = "trials", "logs"
DONE_FILE = "trial.json"  # written last into a finished trial's run folder; its presence means "complete"
CRASH_HOOK = "MLPLAB_SWEEP_TEST_CRASH"  # tests only: a marker path; the first trial to create it kills its worker


def fresh_folder(sweep_dir: Path, trial_id: str) -> Path:
    """trials/ID-N for the first N not taken (made atomically), so a restarted trial never reuses a folder."""
    trials = sweep_dir / TRIALS_DIR
    trials.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = trials / f"{trial_id}-{n}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def record_of(spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A trials.jsonl line: who the trial is, then what came of it."""
    keys = ("id", "index", "point", "seed", "overrides", "settings")
    return {**{k: spec[k] for k in keys}, **fields, "finished": _dt.datetime.now().isoformat(timespec="seconds")}


def run_trial(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one trial (one torch thread); a trial that fails by itself comes back as status 'failed'."""
    import torch

    from mlplab.errors import RunFailed, UserError
    from mlplab.experiments.base import execute
    from mlplab.runs import atomic_write_text

    torch.set_num_threads(1)
    sweep_dir = Path(spec["sweep_dir"])
    run_dir = fresh_folder(sweep_dir, spec["id"])
    log_path = sweep_dir / LOGS_DIR / f"{run_dir.name}.txt"
    log_path.parent.mkdir(exist_ok=True)
    _crash_hook()
    start, cpu = time.perf_counter(), time.process_time()
    status, error, metrics = "ok", None, {}
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            run = execute(
                spec["experiment"], list(spec["overrides"]), out=str(run_dir), report=spec.get("report", True)
            )
            metrics = run.metrics
        except (UserError, RunFailed) as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # a bug in the experiment: recorded, not retried
            status, error = "failed", f"{type(exc).__name__}: {exc}"
    main = main_metric(flatten_numeric(metrics), spec["experiment"]) if status == "ok" else None
    if main is not None and not math.isfinite(flatten_numeric(metrics).get(main[0], float("nan"))):
        status, error = "failed", f"{main[0]} is not a finite number"
    record = record_of(
        spec,
        status=status,
        error=error,
        run=f"{TRIALS_DIR}/{run_dir.name}",
        seconds=round(time.perf_counter() - start, 3),
        cpu_seconds=round(time.process_time() - cpu, 3),
        pid=os.getpid(),
    )
    if run_dir.is_dir():
        atomic_write_text(run_dir / DONE_FILE, json.dumps(record) + "\n")
    return record


def _crash_hook() -> None:
    """For the fault-tolerance tests only: with $MLPLAB_SWEEP_TEST_CRASH set, the first trial dies by SIGKILL."""
    marker = os.environ.get(CRASH_HOOK)
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, f"{os.getpid()}\n".encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
