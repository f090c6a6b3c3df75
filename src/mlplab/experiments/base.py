"""The experiment registry and the runner that every `mlplab run` goes through."""

from __future__ import annotations

import datetime
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mlplab.config import BaseConfig, format_overrides, parse_overrides
from mlplab.device import memory_errors_as_user_errors, resolve_device, seed_everything
from mlplab.errors import UserError, shown
from mlplab.registry import Registry
from mlplab.runs import AFTER_TRAINING_KEYS, RESUMABLE_KEYS, Run, atomic_write_bytes
from mlplab.tensorboard import require_tensorboard


@dataclass
class Experiment:
    name: str
    config: type[BaseConfig]
    fn: Callable[[Any, Context], dict[str, Any]]
    description: str
    smoke: tuple[str, ...] = ()  # overrides that make a seconds-long end-to-end run, for the tests


@dataclass
class Context:
    """What an experiment gets beside its config: the run folder, the device, the seeded generator."""

    run: Run
    device: torch.device
    generator: torch.Generator
    resume: bool = False


def discover() -> None:
    """Import every module of this package and its subpackages so that their decorators fill the registry."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages([str(Path(__file__).parent)], prefix="mlplab.experiments."):
        if info.name != "mlplab.experiments.base":
            importlib.import_module(info.name)


# filled on the first lookup (EXPERIMENTS.get / names / in): importing mlplab.experiments runs nothing
EXPERIMENTS: Registry[Experiment] = Registry("experiment", discover=discover)


def register_experiment(name: str, config: type[BaseConfig], smoke: tuple[str, ...] = ()):
    """Decorator: `@register_experiment("classify", ClassifyConfig) def run(cfg, ctx) -> metrics`."""

    def add(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        EXPERIMENTS.register(name)(Experiment(name, config, fn, doc[0] if doc else "", tuple(smoke)))
        return fn

    return add


def execute(
    name: str,
    overrides: list[str],
    *,
    out: str | None = None,
    resume: str | None = None,
    report: bool = True,
    root: str = "runs",
    typed: dict[str, Any] | None = None,
) -> Run:
    """Validate, create (or reopen) the run folder, run the experiment, save metrics, build the report.

    `overrides` are `key=value` strings (the command line); `typed` are Python values (`mlplab.run`)."""
    exp = EXPERIMENTS.get(name)
    if resume is None:
        cfg = parse_overrides(exp.config, overrides, typed=typed)
    else:
        cfg = resumed_config(exp, resume, overrides, typed)
    if getattr(cfg, "tensorboard", False):
        require_tensorboard()  # now, not at the end of the first epoch
    device = resolve_device(cfg.device)
    generator = seed_everything(cfg.seed)
    fresh = resume is None
    run = Run.create(name, cfg.to_dict(), out=out, root=root) if fresh else Run.open(resume).lock()
    kept = (
        {}
        if fresh
        else {
            f: (run.path / f).read_bytes()
            for f in ("config.yaml", "env.json", "status.json")
            if (run.path / f).is_file()
        }
    )
    status = None
    try:
        if not fresh:
            run.write_yaml("config.yaml", {"experiment": name, **cfg.to_dict()})  # the config this run now uses
        status = _start_status(run, name, cfg, fresh)
        run.write_env(str(device), cfg.seed)
        with memory_errors_as_user_errors():
            metrics = exp.fn(cfg, Context(run, device, generator, resume=not fresh))
        run.save_metrics(metrics)
    except BaseException as exc:
        if status is not None:
            _end_status(run, status, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", exc)
        if not isinstance(exc, UserError):
            if report and not isinstance(exc, KeyboardInterrupt):
                _report_failed(run)
            run.release()
            raise
        for f, data in kept.items():  # a refused resume leaves the run as it was
            atomic_write_bytes(run.path / f, data)
        if fresh and not any(run.path.joinpath("checkpoints").iterdir()):
            run.discard()  # nothing of value was written: leave no debris, and nothing that was there before
        run.release()
        raise
    _end_status(run, status, "finished")
    if report:
        from mlplab.report import build_report

        build_report(run)
    if getattr(cfg, "tensorboard", False):
        from mlplab.report.page.tensorboard import write_tensorboard

        write_tensorboard(run)
    run.release()  # now, not when the object is collected: a notebook keeps it alive
    return run


# Keys a resume may change: none of them alters the trajectory already run. `epochs` may grow (the schedule
# then continues as a run planned for the new total would, see train.factories.schedule_factor);
# `device` and `tensorboard` change where the next epochs run and what else they write; `data_dir` may
# point elsewhere only for datasets whose files are checked against published checksums (or that are
# embedded), so the data cannot differ. `layers` and `knn_k` (runs.AFTER_TRAINING_KEYS) are read only by the
# analysis after training, which a resume redoes in full: changing them lets a resume finish a run whose analysis
# failed on them. Every other change is refused before anything is written.
RESUME_MAY_CHANGE = RESUMABLE_KEYS + AFTER_TRAINING_KEYS
VERIFIED_DATASETS = ("digits", "moons", "mnist", "fashion-mnist", "cifar10")


def has_checkpoints(run_dir: str | Path) -> bool:
    """Whether a run folder holds a state to resume from: checkpoints/last.pt, NAME-last.pt of a model of
    several, or of the finished pieces of a run (train.Pieces)."""
    return any(Path(run_dir, "checkpoints").glob("*last.pt"))


def resumed_config(exp: Experiment, resume: str, overrides: list[str], typed: dict[str, Any] | None) -> BaseConfig:
    """The config a resume of `resume` runs with: the run's own, with only the changes a resume allows."""
    old = Run.open(resume)
    if old.experiment != exp.name:
        raise UserError(
            f"{resume!r} is a run of {old.experiment!r}, not {exp.name!r}; "
            f"resume it with `{shlex.join(['mlplab', 'run', old.experiment, '--resume', str(resume)])}`"
        )
    if not has_checkpoints(old.path):
        raise UserError(f"{resume!r} has no checkpoint to resume from; start a new run instead")
    try:
        before = parse_overrides(exp.config, [], base=old.config).to_dict()
    except UserError as exc:  # the run's own file is at fault, not the command
        raise UserError(
            f"{old.path / 'config.yaml'} (the run's own config, not your command) holds a value this version "
            f"cannot use: {exc}; correct that file, or start a new run"
        ) from None
    cfg = parse_overrides(exp.config, overrides, base=old.config, typed=typed)
    after = cfg.to_dict()
    changed = [k for k in after if after[k] != before.get(k)]
    refused = [
        k
        for k in changed
        if k not in RESUME_MAY_CHANGE or (k == "data_dir" and after["dataset"] not in VERIFIED_DATASETS)
    ]
    if refused:
        what = ", ".join(f"{k} ({shown(before.get(k))} -> {shown(after[k])})" for k in refused)
        raise UserError(
            f"a resume continues the run as it was configured, and cannot change {what}; "
            f"a resume may only raise epochs or change {', '.join(RESUME_MAY_CHANGE[1:])}: "
            f"start a new run for other settings"
        )
    if "epochs" in changed and after["epochs"] < before["epochs"]:
        raise UserError(
            f"a resume can raise epochs but not lower it ({before['epochs']} -> {after['epochs']}): "
            "the epochs already run were planned for the larger total; start a new run instead"
        )
    from mlplab.train.checkpoint import check_belongs

    check_belongs(old)
    return cfg


def _start_status(run: Run, name: str, cfg: BaseConfig, fresh: bool) -> dict[str, Any]:
    """status.json: running, when, and the exact command that reproduces the run (every resolved key)."""
    old = {} if fresh else run.status
    status = {
        "status": "running",
        "started": old.get("started") or _now(),
        "ended": None,
        "seconds": old.get("seconds", 0.0),
        "resumes": 0 if fresh else old.get("resumes", 0) + 1,
        "command": shlex.join(["mlplab", "run", name, *format_overrides(cfg.to_dict())]),
        "_t0": time.time(),
    }
    run.write_json("status.json", {k: v for k, v in status.items() if k != "_t0"})
    return status


def _end_status(run: Run, status: dict[str, Any], state: str, exc: BaseException | None = None) -> None:
    if not run.path.is_dir():
        return
    seconds = status["seconds"] + time.time() - status["_t0"]
    done = {
        **status,
        "status": state,
        "ended": _now(),
        "seconds": round(seconds, 2),
        "error": f"{type(exc).__name__}: {exc}" if exc is not None else None,
    }
    run.write_json("status.json", {k: v for k, v in done.items() if k != "_t0"})


def _report_failed(run: Run) -> None:
    """A failed run's page too (its status and error), unless its files are too partial to draw."""
    from mlplab.report import build_report
    from mlplab.report.page.html import write_html

    for build in (build_report, write_html):  # figures first; a half-finished run may not be drawable
        try:
            build(run)
            return
        except Exception:  # never hide the run's own error behind an error of its report
            continue


def _now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")
