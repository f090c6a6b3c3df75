"""summary.html and summary.png of a sweep, drawn from the summary dict alone."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from mlplab.report.page.templates import render
from mlplab.runs import atomic_write_bytes, atomic_write_text


def label(point: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items()) or "(one point)"


def write_figure(sweep_dir: Path, summary: dict[str, Any]) -> str | None:
    """The main metric per grid point: each seed as a dot, the mean with its 95% interval; summary.png."""
    main = summary["main_metric"]
    points = [e for e in summary["points"] if e["n"]]
    if main is None or not points:
        return None
    from matplotlib.figure import Figure

    from mlplab.sweeps.summary import trial_metrics

    name = main["name"]
    fig = Figure(figsize=(7, 0.5 * len(points) + 1.4))
    ax = fig.subplots()
    for y, e in enumerate(points):
        s = e["metrics"][name]
        ax.plot([s["ci_low"], s["ci_high"]], [y, y], color="#557", lw=2)
        ax.plot([s["mean"]], [y], "o", color="#225", ms=7)
        seeds = [trial_metrics(sweep_dir, {"status": "ok", "run": run}).get(name, math.nan) for run in e["runs"]]
        ax.plot(seeds, [y + 0.18] * len(seeds), ".", color="#c63", alpha=0.8)
    ax.set_yticks(range(len(points)), [label(e["point"]) for e in points], fontsize=8)
    ax.set_ylim(len(points) - 0.5, -0.5)  # best first, at the top
    better = "higher" if main["goal"] == "max" else "lower"
    ax.set_xlabel(f"{name} ({better} is better): mean, 95% interval (line), seeds (dots)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(sweep_dir / "summary.png", buf.getvalue())
    return "summary.png"


def write_html(sweep_dir: Path, summary: dict[str, Any], command: str, figure: str | None) -> Path:
    """summary.html: the grid points ranked, each metric as mean ± std [95% interval] over seeds, the failed
    trials; laid out by report/page/templates/sweep.html.j2 (autoescape on)."""
    main = summary["main_metric"]
    names = summary["metric_names"]
    top = [n for n in names if "." not in n]
    if main:
        top = [main["name"]] + [n for n in top if n != main["name"]]
    page = render(
        "sweep.html.j2",
        summary=summary,
        command=command,
        figure=figure,
        main=main,
        top=top,
        nested=[n for n in names if "." in n],
        failed=[(label(e["point"]), f) for e in summary["points"] for f in e["failed"]],
        # a trial run with --no-report has no page: its link opens the run folder
        reported={r for e in summary["points"] for r in e["runs"] if (Path(sweep_dir) / r / "report.html").is_file()},
    )
    path = Path(sweep_dir) / "summary.html"
    atomic_write_text(path, page)
    return path
