"""The experiment registry and the runner that every `mlplab run` goes through."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from mlplab.config import BaseConfig, parse_overrides
from mlplab.device import memory_errors_as_user_errors, resolve_device, seed_everything
from mlplab.errors import UserError
from mlplab.registry import Registry
from mlplab.runs import Run, atomic_write_bytes


@dataclass
class Experiment:
    name: str
    config: type[BaseConfig]
    fn: Callable[[Any, "Context"], dict[str, Any]]
    description: str
    smoke: tuple[str, ...] = ()  # overrides that make a seconds-long end-to-end run, for the tests


@dataclass
class Context:
    """What an experiment gets beside its config: the run folder, the device, the seeded generator."""

    run: Run
    device: torch.device
    generator: torch.Generator
    resume: bool = False


EXPERIMENTS: Registry[Experiment] = Registry("experiment")


def register_experiment(name: str, config: type[BaseConfig], smoke: tuple[str, ...] = ()):
    """Decorator: `@register_experiment("classify", ClassifyConfig) def run(cfg, ctx) -> metrics`."""

    def add(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        EXPERIMENTS.register(name)(Experiment(name, config, fn, doc[0] if doc else "", tuple(smoke)))
        return fn

    return add


def execute(name: str, overrides: list[str], *, out: str | None = None, resume: str | None = None,
            report: bool = True, root: str = "runs", typed: dict[str, Any] | None = None) -> Run:
    """Validate, create (or reopen) the run folder, run the experiment, save metrics, build the report.

    `overrides` are `key=value` strings (the command line); `typed` are Python values (`mlplab.run`)."""
    exp = EXPERIMENTS.get(name)
    base = None
    if resume is not None:
        old = Run.open(resume)
        if old.experiment != name:
            raise UserError(f"{resume!r} is a run of {old.experiment!r}, not {name!r}; "
                            f"resume it with `mlplab run {old.experiment} --resume {resume}`")
        if not any(old.path.joinpath("checkpoints").glob("*last.pt")):
            raise UserError(f"{resume!r} has no checkpoints/last.pt to resume from; start a new run instead")
        base = old.config
    cfg = parse_overrides(exp.config, overrides, base=base, typed=typed)
    device = resolve_device(cfg.device)
    generator = seed_everything(cfg.seed)
    fresh = resume is None
    run = Run.create(name, cfg.to_dict(), out=out, root=root) if fresh else Run.open(resume).lock()
    old_config = None if fresh else (run.path / "config.yaml").read_bytes()
    if not fresh:
        run.write_yaml("config.yaml", {"experiment": name, **cfg.to_dict()})
    try:
        run.write_env(str(device), cfg.seed)
        with memory_errors_as_user_errors():
            metrics = exp.fn(cfg, Context(run, device, generator, resume=not fresh))
        run.save_metrics(metrics)
    except UserError:
        if old_config is not None:  # a refused resume leaves the run as it was
            atomic_write_bytes(run.path / "config.yaml", old_config)
        if fresh and not any(run.path.joinpath("checkpoints").iterdir()):
            shutil.rmtree(run.path, ignore_errors=True)  # nothing of value was written: leave no debris
            if out is None:
                for parent in (run.path.parent, run.path.parent.parent):
                    try:
                        parent.rmdir()  # only if empty
                    except OSError:
                        break
        raise
    if report:
        from mlplab.report import build_report
        build_report(run)
    return run


def discover() -> None:
    """Import every module of this package and its subpackages so that their decorators fill the registry."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages([str(Path(__file__).parent)], prefix="mlplab.experiments."):
        if info.name != "mlplab.experiments.base":
            importlib.import_module(info.name)
