"""The study folder and its study: tune.yaml (what is searched, the command), the Optuna study in the database,
and the recovery of trials a kill or Ctrl-C left behind (failed, and asked again with the same parameters).

Folder: tune.yaml, study.db (SQLite, unless --storage names another database), trials/NNNN/ (ordinary run
folders, NNNN = the Optuna trial number), logs/NNNN.txt, confirm/ (the fresh-seed runs), study.json,
tables/*.csv, figures/*.png, study.html.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path
from typing import Any

import yaml

from mlplab.errors import UserError
from mlplab.report.page.study import SPEC_FILE
from mlplab.runs import atomic_write_text, make_folder
from mlplab.tune.trial import TRIALS_DIR

SAME = ("experiment", "space", "fixed", "metric", "direction", "pruner")  # what a resume may not change


def open_folder(path: Path, spec: dict[str, Any]) -> bool:
    """Create the study folder with tune.yaml, or check that an existing one holds this very study.

    Returns True when the folder was made now."""
    file = path / SPEC_FILE
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {str(path)!r} is a file, not a folder; give a folder path")
    if file.is_file():
        try:
            old = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError:
            raise UserError(f"{file} is damaged (not valid YAML); give a new --out") from None
        check_same(old, spec, f"{str(path)!r}")
        return False
    make_folder(path, "study")
    created = _dt.datetime.now().isoformat(timespec="seconds")
    atomic_write_text(file, yaml.safe_dump({**spec, "created": created}, sort_keys=False))
    return True


def check_same(old: dict[str, Any], new: dict[str, Any], where: str) -> None:
    """Refuse to resume a study with another space (or metric, pruner, experiment), naming what differs."""
    differ = [k for k in SAME if old.get(k) != new.get(k)]
    if not differ:
        return
    keys = []
    if "space" in differ or "fixed" in differ:
        before = _by_key(old.get("space", []) + old.get("fixed", []))
        after = _by_key(new.get("space", []) + new.get("fixed", []))
        keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    named = [k for k in differ if k not in ("space", "fixed")] + keys
    what = "; ".join(f"{k}: {_get(old, k)} -> {_get(new, k)}" for k in named)
    raise UserError(
        f"{where} holds a study with another space ({what}); repeat its own command to resume it "
        f"({old.get('command', '?')}), or give a new --out for this one"
    )


def _by_key(items: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items)


def _get(spec: dict[str, Any], key: str) -> str:
    if key in SAME:
        return str(spec.get(key))
    return _by_key(spec.get("space", []) + spec.get("fixed", [])).get(key, "(not given)")


def create_or_load(storage, spec: dict[str, Any]):
    """The Optuna study named `spec["study_name"]` (made if new); the database's own record of the space must
    match, so two machines sharing a database cannot mix two studies. Returns (study, made now)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    names = {s.study_name for s in optuna.study.get_all_study_summaries(storage)}
    made = spec["study_name"] not in names
    study = optuna.create_study(
        study_name=spec["study_name"], storage=storage, direction=spec["direction"], load_if_exists=True
    )
    mine = {k: spec[k] for k in SAME}
    if made:
        study.set_user_attr("spec", mine)
        study.set_user_attr("command", spec["command"])
    else:
        check_same(
            {**study.user_attrs.get("spec", {}), "command": study.user_attrs.get("command")},
            mine,
            f"the study {spec['study_name']!r} in the database",
        )
    return study, made


def recover(study, folder: Path, exclusive: bool) -> int:
    """Fail the trials a kill left RUNNING (only when this process owns the whole study: the default SQLite in a
    locked folder; a shared database relies on the heartbeat instead) and ask again, once, every trial that was
    interrupted rather than failing by itself; delete their half-written run folders. Returns how many."""
    from optuna.trial import TrialState

    from mlplab.tune.storage import retry

    trials = study.get_trials(deepcopy=False)
    if exclusive:
        for t in trials:
            if t.state == TrialState.RUNNING:
                study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        trials = study.get_trials(deepcopy=False)
    asked = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    lost = [t for t in trials if t.state == TrialState.FAIL and "error" not in t.user_attrs and t.number not in asked]
    for t in lost:
        retry(study, t)
        run = t.user_attrs.get("run")
        if run and run.startswith(f"{TRIALS_DIR}/"):
            shutil.rmtree(folder / run, ignore_errors=True)
    return len(lost)
