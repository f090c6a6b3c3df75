"""`mlplab sweep`: validate the grid, open (or resume) the sweep folder, run the missing trials, summarise.

The sweep folder (default sweeps/EXPERIMENT-FINGERPRINT, the same for the same grid, so re-running the
command resumes it): sweep.yaml (grid and command), trials.jsonl (one line per finished trial),
trials/ID-N/ (ordinary run folders), logs/ (each trial's console output), summary.{json,csv,html,png}.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlplab import safe_yaml
from mlplab.errors import UserError
from mlplab.runs import atomic_write_text, folder_lock, make_folder
from mlplab.sweeps.grid import Grid, Trial, parse_grid, trial_key, validate
from mlplab.sweeps.ledger import Ledger
from mlplab.sweeps.metrics import main_metric
from mlplab.sweeps.progress import Progress
from mlplab.sweeps.summary import check_finished, trial_metrics, write_summary

ENGINES = ("local", "ray")
MAX_RETRIES = 2  # a trial whose worker dies runs at most 1 + MAX_RETRIES times


@dataclass
class SweepResult:
    path: Path
    summary: dict[str, Any]
    ran: int  # trials run by this invocation
    skipped: int  # trials finished by an earlier invocation

    @property
    def failed(self) -> int:
        return self.summary["trials"] - self.summary["ok"]


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def sweep(
    experiment: str,
    items: list[str] | Grid,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    out: str | os.PathLike | None = None,
    root: str | os.PathLike = "sweeps",
    command: str | None = None,
    stream: IO[str] | None = None,
    report: bool = True,
) -> SweepResult:
    """Run (or resume) the sweep `items` (`key=v1,v2` strings, or a Grid of values already apart) of `experiment`;
    return its folder and summary. `report=False`: the trials skip their figures and report.html (the summary
    is made either way)."""
    stream = stream or sys.stderr
    grid = items if isinstance(items, Grid) else parse_grid(experiment, items)
    trials = validate(grid)  # every value against the experiment's config, before anything is written
    workers = _check_engine(engine, address, workers)
    path = Path(out) if out is not None else Path(root) / f"{experiment}-{grid.fingerprint()}"
    command = command or shlex.join(
        ["mlplab", "sweep", experiment, *(f"{k}={','.join(v)}" for k, v in grid.axes.items())]
    )
    with folder_lock(_open_folder(path, grid, command), "sweep"):
        ledger = Ledger(path, identify=lambda record: trial_key(experiment, record))
        done, removed = ledger.recover({t.key for t in trials})
        todo = [t for t in trials if t.key not in done]
        check_finished(path, list(done.values()))  # a damaged metrics.json: one line, before anything runs
        note = f"; {len(done)} finished earlier, skipped" if done else ""
        note += f"; removed {removed} unfinished trial folder(s)" if removed else ""
        print(f"sweep: {len(trials)} trials of {experiment} in {path} ({engine} engine){note}", file=stream, flush=True)
        records = dict(done)
        _run_trials(
            path.resolve(),
            experiment,
            todo,
            records,
            ledger,
            engine,
            address,
            workers,
            stream,
            already=len(trials) - len(todo),
            report=report,
        )
        summary = write_summary(path, grid, trials, records, command)
    return SweepResult(path, summary, ran=len(todo), skipped=len(trials) - len(todo))


def _check_engine(engine: str, address: str | None, workers: int | None) -> int:
    if engine not in ENGINES:
        raise UserError(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if workers is not None and workers < 1:
        raise UserError(f"--workers {workers} must be at least 1")
    if address and engine != "ray":
        raise UserError("--address is the address of a Ray cluster; add --engine ray")
    if engine == "ray":
        from mlplab.sweeps.ray_engine import check_address, import_ray

        import_ray()
        if address:
            check_address(address)
    return workers or default_workers()


def _open_folder(path: Path, grid: Grid, command: str) -> Path:
    """Create the sweep folder with sweep.yaml, or check that an existing one holds this very grid."""
    spec = path / "sweep.yaml"
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {str(path)!r} is a file, not a folder; give a folder path")
    if spec.is_file():
        old = _read_spec(spec)
        if not _same_trials(Grid(old["experiment"], old["axes"]), grid):
            raise UserError(
                f"{str(path)!r} holds another sweep ({old.get('command', '?')}); "
                "give a new --out, or repeat that command to resume it"
            )
        return path
    make_folder(path, "sweep")
    atomic_write_text(
        spec,
        safe_yaml.dump(
            {
                **grid.to_dict(),
                "command": command,
                "trials": len(grid.trials()),
                "created": _dt.datetime.now().isoformat(timespec="seconds"),
            }
        ),
    )
    return path


def _same_trials(old: Grid, new: Grid) -> bool:
    """Whether two grids make the same trials: the same texts, or values that read the same (`lr=1e-3` and
    `lr=0.001`, keys in another order)."""
    if old.to_dict() == new.to_dict():
        return True
    if old.experiment != new.experiment:
        return False
    try:
        return sorted(t.key for t in validate(old)) == sorted(t.key for t in validate(new))
    except UserError:  # the old grid no longer reads (another version's config): not this sweep
        return False


def _read_spec(spec: Path) -> dict[str, Any]:
    """sweep.yaml as written by `_open_folder`; one line naming the file when it is damaged or of another shape."""
    fix = "restore it from a copy, or give a new --out to start the sweep afresh"
    try:
        old = safe_yaml.load_file(spec)
    except safe_yaml.YAMLRefused as exc:
        raise UserError(f"{spec} is damaged ({exc.problem}); {fix}") from None
    except OSError as exc:
        raise UserError(f"cannot read {spec}: {exc.strerror}") from None
    axes = old.get("axes") if isinstance(old, dict) else None
    if not (
        isinstance(old.get("experiment") if isinstance(old, dict) else None, str)
        and isinstance(axes, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in axes.items()
        )
        and isinstance(old.get("command", ""), str)
    ):
        raise UserError(f"{spec} is damaged (not an experiment name and axes of text values); {fix}")
    return old


def _run_trials(
    path: Path,
    experiment: str,
    todo: list[Trial],
    records: dict[str, dict],
    ledger: Ledger,
    engine: str,
    address: str | None,
    workers: int,
    stream: IO[str],
    already: int,
    report: bool = True,
) -> None:
    specs = [
        {
            "experiment": experiment,
            "sweep_dir": str(path),
            "id": t.id,
            "index": t.index,
            "point": t.point,
            "seed": t.seed,
            "overrides": list(t.overrides),
            "settings": json.loads(t.key),
            "report": report,
        }
        for t in todo
    ]
    main = next((m for m in (main_metric(trial_metrics(path, r), experiment) for r in records.values()) if m), None)
    progress = Progress(already + len(todo), already, main[0] if main else None, stream)

    def on_result(record: dict) -> None:
        key = ledger.identify(record)
        if key in records:  # never count a trial twice
            return
        ledger.append(record)
        records[key] = record
        metrics = trial_metrics(path, record)
        if progress.main is None and main_metric(metrics, experiment):
            progress.main = main_metric(metrics, experiment)[0]
        progress.update(record, metrics)

    try:
        if engine == "ray":
            from mlplab.sweeps.ray_engine import run_ray

            run_ray(specs, workers, on_result, address=address, max_retries=MAX_RETRIES)
        else:
            from mlplab.sweeps.local import run_local

            run_local(specs, workers, on_result, max_retries=MAX_RETRIES)
    finally:
        progress.close()
    ledger.recover(set(records))  # no worker is left: folders of attempts that died go now
