"""One worker of a study: ask Optuna for a trial, run it with `execute` (the code path of `mlplab run`) into
trials/NNNN/, report its validation metric every epoch through a Trainer callback, prune, tell; until the study
holds enough counted trials. The same loop runs in this process, in spawned processes and in Ray tasks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from mlplab.errors import UserError

TRIALS_DIR, LOGS_DIR = "trials", "logs"
TRIAL_FILE = "tune.json"  # written last into a trial's run folder: its state, parameters and reported values


class MetricMissing(UserError):
    """The metric to optimise is not among what the experiment reports each epoch: the study cannot go on."""


class TrialFailed(Exception):
    """A trial that failed by itself (diverged, bad combination): recorded, counted, not asked again."""


@contextlib.contextmanager
def quiet(log_path: Path):
    """A trial's console output (epoch rows, bars, "writing run folder") goes to its log file, not the terminal."""
    runs_log = logging.getLogger("mlplab.runs")
    level = runs_log.level
    runs_log.setLevel(logging.WARNING)
    try:
        with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        runs_log.setLevel(level)


def better(direction: str):
    return max if direction == "maximize" else min


class Reporter:
    """The Trainer callback of one trial: report the metric each epoch, stop the run when the pruner says so."""

    def __init__(self, trial, metric: str, direction: str):
        self.trial, self.metric, self.direction = trial, metric, direction
        self.values: list[float] = []
        self.pruned_at: int | None = None

    def __call__(self, trainer, row: dict[str, Any]) -> None:
        if self.metric not in row:
            validated = [k for k in row if k.startswith("val_")]
            if not validated:
                return  # an epoch between validations (eval_every), or a run without a validation split
            raise self.missing(", ".join(validated))
        value = float(row[self.metric])
        self.values.append(value)
        if not math.isfinite(value):
            return  # the trial fails at its end; never hand the sampler a NaN
        self.trial.report(value, step=len(self.values))
        if self.trial.should_prune():
            self.pruned_at = len(self.values)
            trainer.stop_requested = True

    def missing(self, reported: str) -> MetricMissing:
        return MetricMissing(
            f"--metric {self.metric}: the experiment does not report it (its epochs report {reported}); "
            "the search selects on a validation metric: give --metric one of those"
        )

    def best(self) -> float | None:
        finite = [v for v in self.values if math.isfinite(v)]
        return better(self.direction)(finite) if finite else None


def make_sampler(spec: dict[str, Any]):
    import optuna

    return optuna.samplers.TPESampler(seed=spec["sampler_seed"] + spec.get("worker", 0), **spec.get("tpe", {}))


def make_pruner(name: str, max_resource: int | str = "auto"):
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_resource, reduction_factor=3)
    return optuna.pruners.NopPruner()


def counted(trials) -> int:
    """Trials that count towards --trials: complete, pruned, or failed by themselves (not those killed)."""
    from optuna.trial import TrialState

    return sum(
        1
        for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        or (t.state == TrialState.FAIL and "error" in t.user_attrs)
    )


def load(spec: dict[str, Any], storage=None):
    """The study of `spec` with this worker's sampler and the study's pruner."""
    import optuna

    from mlplab.tune.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(
        study_name=spec["study_name"],
        storage=storage or open_storage(spec["storage"]),
        sampler=make_sampler(spec),
        pruner=make_pruner(spec["pruner"], spec.get("max_resource", "auto")),
    )


def work(spec: dict[str, Any], storage=None, stream=None) -> int:
    """Run trials of the study until it holds `spec["trials"]` counted ones; return how many this worker ran."""
    from mlplab.tune.space import SearchSpace, Space

    study = load(spec, storage)
    space = SearchSpace(spec["experiment"], tuple(Space(**s) for s in spec["spaces"]), tuple(spec["fixed"]))
    ran = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental-feature notes
        while counted(study.get_trials(deepcopy=False)) < spec["trials"]:
            study.optimize(lambda trial: objective(trial, spec, space, stream), n_trials=1, catch=(TrialFailed,))
            ran += 1
    return ran


def objective(trial, spec: dict[str, Any], space, stream=None) -> float:
    """Run one trial; its value is the best validation metric over its epochs."""
    import optuna

    from mlplab.errors import RunFailed
    from mlplab.experiments.base import execute
    from mlplab.runs import atomic_write_text
    from mlplab.train.trainer import watching

    params = {s.key: _suggest(trial, s) for s in space.spaces}
    folder = Path(spec["folder"])
    run_dir = folder / TRIALS_DIR / f"{trial.number:04d}"
    trial.set_user_attr("run", f"{TRIALS_DIR}/{run_dir.name}")
    trial.set_user_attr("worker", f"{spec.get('worker', 0)}:{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("overrides", space.overrides(params))
    log_path = folder / LOGS_DIR / f"{run_dir.name}.txt"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    reporter = Reporter(trial, spec["metric"], spec["direction"])
    start = time.perf_counter()
    error = None
    with quiet(log_path):
        try:
            with watching(reporter):
                execute(spec["experiment"], space.overrides(params), out=str(run_dir), report=spec.get("report", False))
        except MetricMissing:
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            raise
        except (UserError, RunFailed) as exc:
            error = str(exc)
        except Exception as exc:  # a bug in the experiment: recorded, the study goes on
            error = f"{type(exc).__name__}: {exc}"
    if error is None and not reporter.values:
        raise reporter.missing("no validation metric: does the run have a validation split?")
    value = reporter.best()
    if error is None and value is None:
        error = f"{spec['metric']} was never a finite number"
    state = "failed" if error else "pruned" if reporter.pruned_at else "complete"
    record = {
        "study": spec["study_name"],
        "trial": trial.number,
        "state": state,
        "params": params,
        "value": value,
        "values": reporter.values,
        "pruned_at_epoch": reporter.pruned_at,
        "error": error,
        "seconds": round(time.perf_counter() - start, 3),
    }
    trial.set_user_attr("epochs_run", len(reporter.values))
    trial.set_user_attr("seconds", record["seconds"])
    if run_dir.is_dir():
        atomic_write_text(run_dir / TRIAL_FILE, json.dumps(record) + "\n")
    if stream is not None:
        _say(stream, spec, record)
    if error:
        trial.set_user_attr("error", error)
        raise TrialFailed(error)
    if reporter.pruned_at:
        raise optuna.TrialPruned(f"pruned at epoch {reporter.pruned_at}")
    return value


def _suggest(trial, s) -> Any:
    if s.kind == "choice":
        return trial.suggest_categorical(s.key, list(s.choices))
    if s.kind == "int":
        return trial.suggest_int(s.key, int(s.low), int(s.high))
    return trial.suggest_float(s.key, float(s.low), float(s.high), log=s.kind == "loguniform")


def _say(stream, spec: dict[str, Any], record: dict[str, Any]) -> None:
    params = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record["params"].items())
    if record["state"] == "failed":
        what = f"failed: {record['error']}"
    else:
        what = f"{spec['metric']} {record['value']:.4f}"
        if record["state"] == "pruned":
            what += f" (pruned at epoch {record['pruned_at_epoch']})"
    print(f"trial {record['trial']}: {what}  {params}", file=stream or sys.stderr, flush=True)
