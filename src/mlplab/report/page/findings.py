"""Findings: the written observations of a report, composed from a run's files (never at train time).

Each experiment's report module registers `@register_findings("name") def findings(run) -> list[Finding]`
(page/registry.py); editing a finding's wording and running `mlplab report RUN` changes the report without
training. `findings_for(run)` is what the run page renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplab.report.page.registry import FINDINGS, discover
from mlplab.runs import Run


@dataclass(frozen=True)
class Finding:
    """One observation: a title, its text, and the metric key or table name it comes from ("" = the run)."""

    title: str
    text: str
    about: str = ""


def findings_for(run: Run) -> list[Finding]:
    """The registered findings of the run's experiment (none for an experiment without a builder)."""
    discover()
    if run.experiment in FINDINGS:
        return list(FINDINGS.get(run.experiment)(run))
    return []
