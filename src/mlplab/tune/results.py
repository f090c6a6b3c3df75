"""What a study leaves beside its run folders: study.json (every trial, the best, the confirmation),
tables/trials.csv and tables/confirmation.csv, written atomically from the database and the runs' files."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from mlplab.runs import atomic_write_text, to_jsonable

STATES = ("complete", "pruned", "failed", "interrupted", "running", "waiting")


def state_of(trial) -> str:
    """complete, pruned, failed (by itself), interrupted (killed or Ctrl-C: asked again), running, waiting."""
    name = trial.state.name.lower()
    if name == "fail":
        return "failed" if "error" in trial.user_attrs else "interrupted"
    return name


def trial_rows(study) -> list[dict[str, Any]]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": t.number,
                "state": state_of(t),
                "value": t.value if t.value is not None and math.isfinite(t.value) else None,
                "epochs_run": t.user_attrs.get("epochs_run"),
                "params": dict(t.params),
                "intermediate": {int(k): v for k, v in t.intermediate_values.items()},
                "run": t.user_attrs.get("run"),
                "seconds": t.user_attrs.get("seconds"),
                "retry_of": t.system_attrs.get("failed_trial"),
                "worker": t.user_attrs.get("worker"),
                "error": t.user_attrs.get("error"),
            }
        )
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for r in rows if r["state"] == s) for s in STATES}


def best_trial(study):
    """The complete trial with the best validation value (pruned trials never win: they were cut short)."""
    from optuna.trial import TrialState

    complete = list(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    if not complete:
        return None
    pick = max if study.direction.name == "MAXIMIZE" else min
    return pick(complete, key=lambda t: t.value)


def importances(study) -> dict[str, float]:
    """fANOVA importance of each searched key for the validation metric (Optuna's evaluator, seeded); {} when
    fewer than two trials are complete or nothing varies."""
    import warnings

    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = optuna.importance.get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
        except (RuntimeError, ValueError):  # e.g. every complete trial has the same value
            return {}
    return {k: float(v) for k, v in found.items()}


def write_results(folder: Path, result: dict[str, Any]) -> None:
    """study.json and the two tables."""
    folder = Path(folder)
    atomic_write_text(folder / "study.json", json.dumps(to_jsonable(result), indent=2) + "\n")
    keys = result["space_keys"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["trial", "state", result["metric"], "epochs_run", *keys, "seconds", "run", "error"])
    for r in result["trials"]:
        params = [r["params"].get(k, "") for k in keys]
        w.writerow(
            [
                r["trial"],
                r["state"],
                _num(r["value"]),
                r["epochs_run"],
                *params,
                r["seconds"],
                r["run"],
                r["error"] or "",
            ]
        )
    atomic_write_text(folder / "tables" / "trials.csv", buf.getvalue())
    conf = result.get("confirmation")
    if conf:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["arm", "n", "mean", "std", "ci_low", "ci_high", *[f"seed{s}" for s in conf["seeds"]]])
        for arm, a in conf["arms"].items():
            w.writerow(
                [
                    arm,
                    a["n"],
                    _num(a["mean"]),
                    _num(a["std"]),
                    _num(a["ci_low"]),
                    _num(a["ci_high"]),
                    *map(_num, a["values"]),
                ]
            )
        atomic_write_text(folder / "tables" / "confirmation.csv", buf.getvalue())


def _num(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(x)
