"""`mlplab tune`: check everything, open (or resume) the study, run the trials on an engine, confirm the best
configuration against the defaults on fresh seeds, write study.json, the tables and the study page."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlplab.errors import UserError
from mlplab.main_metric import goal
from mlplab.tune.options import Options
from mlplab.tune.space import SearchSpace, parse_space
from mlplab.tune.trial import TRIALS_DIR

ENGINES = ("local", "ray")
PRUNERS = ("median", "hyperband", "none")


@dataclass
class TuneResult:
    path: Path
    result: dict[str, Any]


def tune(
    experiment: str,
    items: list[str],
    *,
    command: str | None = None,
    report: bool = False,
    stream: IO[str] | None = None,
    **options: Any,
) -> TuneResult:
    """Run (or resume) the study of `items` (`key=SPACE` and `key=value` texts) with `options`, the keywords of
    tune.options.Options (trials=, metric=, pruner=, ...); see the module docstring."""
    from mlplab.tune.storage import default_url, open_storage, shown

    o = Options(**options)
    trials, metric, pruner, confirm_seeds, engine = o.trials, o.metric, o.pruner, o.confirm_seeds, o.engine
    address, workers, storage, out, root = o.address, o.workers, o.storage, o.out, o.root

    stream = stream or sys.stdout  # progress; stderr is kept for the one line of an error
    _import_optuna()
    _check_numbers(trials, confirm_seeds, workers, engine, pruner, metric, address)
    space = parse_space(experiment, items)
    search_seed = _check_config(space)
    direction = "minimize" if goal(metric) == "min" else "maximize"  # the one rule of main_metric
    path = Path(out) if out is not None else Path(root) / f"{experiment}-{_fingerprint(space, metric, pruner)}"
    command = command or " ".join(["mlplab", "tune", experiment, *items])
    spec = {
        **space.to_dict(),
        "metric": metric,
        "direction": direction,
        "pruner": pruner,
        "study_name": path.resolve().name,
        "storage": shown(storage) if storage else "sqlite (study.db in this folder)",
        "command": command,
    }
    external = open_storage(storage) if storage else None  # an unreachable database: refused before any folder
    workers = _check_engine(engine, address, workers)
    from mlplab.runs import folder_lock
    from mlplab.tune.study import create_or_load, open_folder, recover

    made_folder = open_folder(path, spec)
    made_study, study = False, None
    try:
        with folder_lock(path, "tune"):
            db = external or open_storage(default_url(path))
            study, made_study = create_or_load(db, spec)
            lost = recover(study, path, exclusive=external is None)
            _header(stream, study, spec, trials, engine, workers, path, lost)
            work = {
                "folder": str(path.resolve()),
                "storage": storage or default_url(path),
                "study_name": spec["study_name"],
                "experiment": experiment,
                "spaces": [dataclasses.asdict(s) for s in space.spaces],
                "fixed": list(space.fixed),
                "metric": metric,
                "direction": direction,
                "pruner": pruner,
                "trials": trials,
                "sampler_seed": search_seed,
                "report": report,
            }
            _run_engine(work, engine, address, workers, db, stream)
            return TuneResult(path, finish(path, study, space, spec, search_seed, confirm_seeds, stream))
    except UserError as exc:
        from mlplab.tune.trial import MetricMissing

        missing = isinstance(exc, MetricMissing)
        if missing and made_study and external is not None:  # nothing of value was made: leave no study behind
            import optuna

            optuna.delete_study(study_name=spec["study_name"], storage=external)
        if missing or not (path / TRIALS_DIR).exists():
            if made_folder:
                shutil.rmtree(path, ignore_errors=True)
                if out is None:
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()  # studies/, only if empty
        raise


def finish(path: Path, study, space: SearchSpace, spec: dict, search_seed: int, n_seeds: int, stream) -> dict:
    """Confirm the best configuration, then write study.json, the tables and the page."""
    from mlplab.report.page.study import write_page
    from mlplab.tune.confirm import confirm_seeds, run_confirmation, statistics
    from mlplab.tune.results import best_trial, counts, importances, trial_rows, write_results

    best = best_trial(study)
    confirmation = None
    best_entry = None
    if best is not None:
        overrides = best.user_attrs.get("overrides") or space.overrides(best.params)
        best_entry = {
            "trial": best.number,
            "value": best.value,
            "params": dict(best.params),
            "run": best.user_attrs.get("run"),
            "command": " ".join(["mlplab", "run", spec["experiment"], *overrides, f"seed={search_seed}"]),
        }
        _report(path / best_entry["run"])
        page = Path(best_entry["run"]) / "report.html"
        best_entry["page"] = page.as_posix() if (path / page).is_file() else f"{best_entry['run']}/"
        if n_seeds:
            sampled = [s.override(best.params[s.key]) for s in space.spaces]
            seeds = confirm_seeds(search_seed, n_seeds)
            runs = run_confirmation(path, spec["experiment"], list(space.fixed), sampled, seeds, stream)
            confirmation = statistics(path, runs, spec["metric"], spec["direction"])
    rows = trial_rows(study)
    result = {
        "experiment": spec["experiment"],
        "command": spec["command"],
        "storage": spec["storage"],
        "study_name": spec["study_name"],
        "metric": spec["metric"],
        "direction": spec["direction"],
        "pruner": spec["pruner"],
        "sampler": "Optuna TPE",
        "search_seed": search_seed,
        "space": spec["space"],
        "space_keys": space.keys,
        "fixed": spec["fixed"],
        "counts": counts(rows),
        "importances": importances(study),
        "best": best_entry,
        "confirmation": confirmation,
        "trials": rows,
    }
    write_results(path, result)
    write_page(path, result)
    return result


def _import_optuna() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise UserError(
            "mlplab tune needs Optuna, which is not installed; install it with `pip install 'mlplab[tune]'`"
        ) from None


def _report(run_dir: Path) -> None:
    """The best trial's run page (the other trials' pages are one `mlplab report RUN` away)."""
    from mlplab.report import build_report
    from mlplab.runs import Run

    if run_dir.is_dir() and not (run_dir / "report.html").is_file():
        try:
            build_report(Run.open(run_dir))
        except Exception as exc:  # a page that cannot be drawn never fails the study
            print(f"mlplab: warning: the best trial's report was not built: {exc}", file=sys.stderr)


def _fingerprint(space: SearchSpace, metric: str, pruner: str) -> str:
    import hashlib
    import json

    text = json.dumps({**space.to_dict(), "metric": metric, "pruner": pruner}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _check_numbers(trials, confirm_seeds, workers, engine, pruner, metric, address) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise UserError(f"--trials {trials} must be at least 1")
    if isinstance(confirm_seeds, bool) or not isinstance(confirm_seeds, int) or confirm_seeds < 0 or confirm_seeds == 1:
        raise UserError(
            f"--confirm-seeds {confirm_seeds} must be 0 (no confirmation) or at least 2 (one seed measures no noise)"
        )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UserError(f"--workers {workers} must be at least 1")
    if engine not in ENGINES:
        raise UserError(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if pruner not in PRUNERS:
        raise UserError(f"--pruner {pruner!r} is not one of {', '.join(PRUNERS)}")
    if not isinstance(metric, str) or not metric.startswith("val_"):
        raise UserError(
            f"--metric {metric!r} is not a validation metric: the search selects on validation only (the test set "
            "is kept for the confirmation); give e.g. --metric val_accuracy or --metric val_loss"
        )
    if address and engine != "ray":
        raise UserError("--address is the address of a Ray cluster; add --engine ray")


def _check_config(space: SearchSpace) -> int:
    """The search's seed, after refusing fixed keys that leave nothing to select on."""
    from mlplab.config import parse_overrides
    from mlplab.experiments import EXPERIMENTS

    cfg = parse_overrides(EXPERIMENTS.get(space.experiment).config, list(space.fixed))
    if getattr(cfg, "val_size", None) == 0:
        raise UserError(
            "val_size=0 leaves no validation split, and the search selects on validation only; "
            "give val_size > 0 (or leave it out)"
        )
    return cfg.seed


def _check_engine(engine: str, address: str | None, workers: int | None) -> int:
    if engine == "ray":
        from mlplab.sweeps.ray_engine import check_address, import_ray

        import_ray()
        if address:
            check_address(address)
        return workers or 1
    return workers or 1


def _header(stream, study, spec, trials, engine, workers, path, lost) -> None:
    from mlplab.tune.trial import counted

    done = counted(study.get_trials(deepcopy=False))
    note = f"; {done} counted earlier" if done else ""
    note += f"; {lost} interrupted trial(s) asked again" if lost else ""
    print(
        f"tune: {trials} trials of {spec['experiment']} on {spec['metric']} in {path} "
        f"({engine} engine, {workers} worker(s), {spec['pruner']} pruner, {spec['storage']}){note}",
        file=stream,
        flush=True,
    )


def _run_engine(work: dict, engine: str, address: str | None, workers: int, db, stream) -> None:
    from mlplab.tune.engines import run_local, run_ray

    if engine == "ray":
        run_ray(work, workers, address)
    else:
        run_local(work, workers, db, stream)
