"""Figures, animations and HTML, made from run folders only (never trains).

report/ mirrors experiments/: the module of experiment NAME sits at the same path under report/ as under
experiments/ (report/autoencoders/pca.py for experiments/autoencoders/pca.py) and holds that experiment's main
numbers, figures and findings (page/registry.py says how they register). page/ builds report.html, the
gallery, TensorBoard export and the findings; draw/ holds the drawing that several experiments share.
`build_report` runs the experiment's figure builder and then writes report.html.
"""

from __future__ import annotations

from pathlib import Path

from mlplab.report.page.findings import Finding, findings_for
from mlplab.report.page.registry import (
    FIGURES,
    FINDINGS,
    MAIN_NUMBERS,
    discover,
    register_figures,
    register_findings,
    register_main_numbers,
)
from mlplab.runs import Run

__all__ = [
    "FIGURES",
    "FINDINGS",
    "MAIN_NUMBERS",
    "Finding",
    "build_report",
    "discover",
    "findings_for",
    "register_figures",
    "register_findings",
    "register_main_numbers",
]


def build_report(run: Run) -> Path:
    """(Re)make the run's figures from its files, then report.html; return the report's path.

    A damaged file (see runs.DamagedFile) costs only what is made from it: one warning line names it.
    """
    from mlplab.report.page.damage import salvage
    from mlplab.report.page.html import write_html

    run.require_mlplab()
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
