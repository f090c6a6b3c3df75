"""What each experiment's report module registers: its figure builder, its findings and its main numbers.

An experiment's module (report/FAMILY/NAME.py, the same path as experiments/FAMILY/NAME.py) declares

    register_main_numbers("name", "test_accuracy", "conv_*_test_mse", ...)   # names or glob patterns
    @register_figures("name")  def build(run: Run) -> None                   # figures/, animations/
    @register_findings("name") def findings(run: Run) -> list[Finding]       # the written observations

`discover()` imports every such module so that the three tables are filled.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from mlplab.registry import Registry
from mlplab.runs import Run

FIGURES: Registry[Callable[[Run], None]] = Registry("figure builder")
FINDINGS: Registry[Callable[[Run], list]] = Registry("findings builder")
MAIN_NUMBERS: Registry[tuple[str, ...]] = Registry("main-numbers list")
_MACHINERY = ("mlplab.report.page", "mlplab.report.draw")


def register_figures(experiment: str):
    return FIGURES.register(experiment)


def register_findings(experiment: str):
    return FINDINGS.register(experiment)


def register_main_numbers(experiment: str, *patterns: str) -> tuple[str, ...]:
    """The metrics a reader looks for first, in the order shown (at most four are shown); see main_metric."""
    return MAIN_NUMBERS.register(experiment)(tuple(patterns))


def main_patterns(experiment: str) -> tuple[str, ...]:
    """The experiment's registered main numbers, () when it registered none (the rule then picks)."""
    discover()
    return MAIN_NUMBERS.get(experiment) if experiment in MAIN_NUMBERS else ()


def discover() -> None:
    """Import every experiment module of mlplab.report (not the page machinery or the drawing helpers)."""
    root = Path(__file__).parent.parent
    for info in pkgutil.walk_packages([str(root)], prefix="mlplab.report."):
        if not info.name.startswith(_MACHINERY):
            importlib.import_module(info.name)
