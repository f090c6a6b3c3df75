"""summary.html and summary.png of a sweep, drawn from the summary dict alone."""

from __future__ import annotations

import html
import io
import math
from pathlib import Path
from typing import Any

from mlplab.report.page.assets import STYLE
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


def _cell(s: dict[str, float]) -> str:
    if not s["n"]:
        return "–"
    if s["n"] == 1:
        return f"{s['mean']:.4g} (n=1)"
    return f"{s['mean']:.4g} ± {s['std']:.2g} <small>[{s['ci_low']:.4g}, {s['ci_high']:.4g}]</small>"


def _table(summary: dict[str, Any], names: list[str]) -> str:
    keys = summary["varying"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["#", *keys, "seeds", *names, "runs"])
    rows = []
    for e in summary["points"]:
        runs = " ".join(f"<a href='{html.escape(r)}/report.html'>{i}</a>" for i, r in enumerate(e["runs"], 1))
        cells = [
            str(e["rank"]),
            *[html.escape(str(v)) for v in e["point"].values()],
            f"{e['n']}" + (f" ({len(e['failed'])} failed)" if e["failed"] else ""),
            *[_cell(e["metrics"][n]) for n in names],
            runs,
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def write_html(sweep_dir: Path, summary: dict[str, Any], command: str, figure: str | None) -> Path:
    main = summary["main_metric"]
    names = summary["metric_names"]
    top = [n for n in names if "." not in n]
    if main:
        top = [main["name"]] + [n for n in top if n != main["name"]]
    nested = [n for n in names if "." in n]
    exp = html.escape(summary["experiment"])
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>mlplab sweep {exp}</title>"
        f"<style>{STYLE}</style></head><body><h1>mlplab sweep · {exp}</h1>",
        f"<p><code>{html.escape(command)}</code></p>",
        f"<p>{summary['ok']} of {summary['trials']} trials finished well; "
        f"seeds {html.escape(', '.join(summary['seeds']) or 'default')}. "
        "Each cell: mean ± std over seeds [95% Student-t interval of the mean].</p>",
    ]
    if summary["fixed"]:
        parts.append("<p>Fixed: " + html.escape(", ".join(f"{k}={v}" for k, v in summary["fixed"].items())) + "</p>")
    if main:
        order = "highest" if main["goal"] == "max" else "lowest"
        parts.append(f"<p>Ranked by <b>{html.escape(main['name'])}</b>, {order} first.</p>")
    if figure:
        parts.append(
            f"<figure><img src='{figure}'><figcaption>{html.escape(main['name'])} per grid point</figcaption></figure>"
        )
    parts.append("<h2>Grid points</h2>" + _table(summary, top))
    if nested:
        parts.append(
            f"<details><summary>{len(nested)} per-class and per-layer metrics</summary>"
            + _table(summary, nested)
            + "</details>"
        )
    failed = [(e, f) for e in summary["points"] for f in e["failed"]]
    if failed:
        rows = "".join(
            f"<tr><td>{html.escape(label(e['point']))}</td><td>{html.escape(str(f['seed']))}</td>"
            f"<td>{f['status']}</td><td>{html.escape(str(f['error']))}</td></tr>"
            for e, f in failed
        )
        parts.append(
            "<h2>Failed trials</h2><table><tr><th>point</th><th>seed</th><th>status</th><th>error</th></tr>"
            f"{rows}</table>"
        )
    parts.append("</body></html>")
    path = Path(sweep_dir) / "summary.html"
    atomic_write_text(path, "\n".join(parts))
    return path
