"""Findings: the written observations of a report, composed from a run's files (never at train time).

Each experiment registers `@register_findings("name") def findings(run) -> list[Finding]` in a module of
`mlplab.report`; editing a finding's wording and running `mlplab report RUN` changes the report without
training. `findings_for(run)` is what the run page renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlplab.registry import Registry
from mlplab.runs import Run


@dataclass(frozen=True)
class Finding:
    """One observation: a title, its text, and the metric key or table name it comes from ("" = the run)."""

    title: str
    text: str
    about: str = ""


FINDINGS: Registry[Callable[[Run], list[Finding]]] = Registry("findings builder")


def register_findings(experiment: str):
    return FINDINGS.register(experiment)


def findings_for(run: Run) -> list[Finding]:
    """The registered findings of the run's experiment (none for an experiment without a builder)."""
    from mlplab.report import discover

    discover()
    if run.experiment in FINDINGS:
        return list(FINDINGS.get(run.experiment)(run))
    return []
