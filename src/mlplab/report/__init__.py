"""Figures, animations and HTML, made from run folders only (never trains).

Each experiment registers a figure builder `@register_figures("name") def build(run: Run) -> None`
in a module of this package; `build_report` runs it and then writes report.html.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from mlplab.registry import Registry
from mlplab.runs import Run

FIGURES: Registry[Callable[[Run], None]] = Registry("figure builder")


def register_figures(experiment: str):
    return FIGURES.register(experiment)


def discover() -> None:
    """Import every module of this package so that figure and findings builders register."""
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name not in ("plots", "html", "findings"):
            importlib.import_module(f"mlplab.report.{info.name}")


def build_report(run: Run) -> Path:
    """(Re)make the run's figures from its files, then report.html; return the report's path.

    A damaged file (see runs.DamagedFile) costs only what is made from it: one warning line names it.
    """
    from mlplab.report.damage import salvage
    from mlplab.report.html import write_html

    run.require_mlplab()
    discover()
    experiment = salvage(lambda: run.experiment, "", "no figures are made")
    if experiment in FIGURES:
        salvage(
            lambda: FIGURES.get(experiment)(run),
            None,
            "the figures made from it (and after it) are left out; the rest of the report is built",
            run=run,
        )
    return write_html(run)
