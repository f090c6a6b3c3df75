"""What the run page and the gallery say about a run: status, times, command, main numbers, main figure.

Main numbers: those the experiment's report module registers (`register_main_numbers`, names or glob
patterns, at most four shown), else the rule of mlplab.main_metric, which the sweeps and the trainer share.
Numbers carry units from their names: accuracy, precision, recall, F1, AUC and rates in [0, 1] are shown as
percentages; `*seconds` as seconds.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplab.errors import UserError
from mlplab.main_metric import is_number, main_numbers
from mlplab.report.page.registry import main_patterns
from mlplab.runs import Run

_PERCENT = re.compile(r"(accuracy|precision|recall|(^|_)f1|(^|_)auc|auroc|_rate$|^rate_|fraction|share)")
_SECONDS = re.compile(r"(seconds|_s)$")


@dataclass
class Summary:
    """The facts a page header and a gallery card show for one run folder."""

    path: Path
    experiment: str
    dataset: str
    status: str  # finished, resumed, failed, interrupted, running, unknown
    started: str  # "2026-12-01 14:03" or ""
    seconds: float | None
    command: str
    main: list[tuple[str, Any]] = field(default_factory=list)
    main_figure: Path | None = None
    error: str = ""


def fmt_number(key: str, value: Any) -> str:
    """A number rounded for reading, with its unit (%, s) when its name says which."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if not is_number(value):
        return str(value)
    name = key.lower()
    if _PERCENT.search(name) and 0 <= value <= 1:
        return f"{100 * value:.2f} %"
    if _SECONDS.search(name):
        return fmt_duration(float(value))
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:
        return "NaN"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.4g}"
    return f"{value:.3e}"


def fmt_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes} min {sec:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def main_metrics(experiment: str, metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """The numbers a reader looks for first: the experiment's registered main numbers, else the rule
    (mlplab.main_metric)."""
    return main_numbers(metrics, main_patterns(experiment))


def reproduce_command(run: Run, config: dict[str, Any], status: dict[str, Any] | None = None) -> str:
    """The command recorded at run time, else one rebuilt from config.yaml (every resolved key)."""
    from mlplab.config import format_overrides

    recorded = (run.status if status is None else status).get("command")
    if recorded:
        return str(recorded)
    return shlex.join(["mlplab", "run", str(config.get("experiment", "")), *format_overrides(config)])


def main_figure(run: Run) -> Path | None:
    """The figure a card shows: the first PNG whose name says samples/reconstructions/…, else the first one."""
    figures = sorted((run.path / "figures").glob("*.png"))
    for word in ("dream", "reconstruction", "samples", "grid", "confusion", "pca", "decision", "curves"):
        for f in figures:
            if word in f.stem:
                return f
    return figures[0] if figures else None


def summarize(run: Run) -> Summary:
    from mlplab.report.page.damage import log, salvage

    config = salvage(lambda: run.config, {}, "the report leaves out the configuration")
    metrics = salvage(lambda: run.metrics, {}, "the report leaves out the final metrics")
    status = salvage(lambda: run.status, {}, "the report leaves out the run's status")
    state = status.get("status") or ("finished" if metrics else "unknown")
    if state == "finished" and status.get("resumes"):
        state = "resumed"
    try:
        env = run._json("env.json", dict) or {}  # only a fallback for the start: the page's details name damage
    except UserError:
        env = {}
    started = status.get("started") or env.get("started") or ""
    seconds = status.get("seconds")
    if seconds is not None and not (is_number(seconds) and math.isfinite(seconds) and seconds >= 0):
        log.warning(
            "%s says the run took %.40r seconds; the report leaves out the run time", run.path / "status.json", seconds
        )
        seconds = None
    return Summary(
        path=run.path,
        experiment=str(config.get("experiment", "")),
        dataset=str(config.get("dataset", "")),
        status=str(state),
        started=_short_date(started),
        seconds=seconds,
        command=reproduce_command(run, config, status),
        main=main_metrics(str(config.get("experiment", "")), metrics),
        main_figure=main_figure(run),
        error=str(status.get("error") or ""),
    )


def machine(run: Run) -> str:
    """The machine a run ran on, in words from its env.json: "NVIDIA H100 (cuda)", "2 CPU threads (AMD EPYC)";
    "an unrecorded machine" without one (or with a damaged one)."""
    try:
        env = run._json("env.json", dict) or {}
    except UserError:
        env = {}
    if env.get("cuda_device"):
        return f"{env['cuda_device']} ({env.get('device') or 'cuda'})"
    if env.get("threads"):
        return f"{env['threads']} CPU threads ({env.get('cpu') or 'unnamed CPU'})"
    return str(env.get("cpu") or "an unrecorded machine")


def _short_date(iso: str) -> str:
    try:
        return _dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso)
