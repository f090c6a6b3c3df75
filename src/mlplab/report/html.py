"""report.html: config, metrics, notes, tables, figures and animations of one run folder."""
from __future__ import annotations

import csv
import html
import json
import logging
from pathlib import Path
from typing import Any, Callable, TypeVar

from mlplab.errors import DamagedFile
from mlplab.runs import Run, atomic_write_text

log = logging.getLogger("mlplab.report")
T = TypeVar("T")


def salvage(read: Callable[[], T], default: T, consequence: str) -> T:
    """`read()`, or `default` with one warning line naming the damaged file and what the report leaves out."""
    try:
        return read()
    except DamagedFile as exc:
        log.warning("%s is damaged (%s); %s", exc.path, exc.problem, consequence)
        return default

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
.note { background: #f7f7fb; border-left: 4px solid #88a; padding: 0.5em 1em; margin: 0.8em 0; white-space: pre-wrap; }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value)
        return text if len(text) < 400 else text[:400] + " …"
    return str(value)


def _kv_table(data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in data.items())
    return f"<table>{rows}</table>"


def _csv_table(path: Path) -> str:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DamagedFile(path, f"not a CSV table: {type(exc).__name__}") from None
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_short(c))}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def _short(cell: str) -> str:
    try:
        return f"{float(cell):.6g}" if "." in cell or "e" in cell.lower() else cell
    except ValueError:
        return cell


def _caption(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ")


def write_html(run: Run) -> Path:
    """Rebuild report.html from the files in the run folder."""
    root = run.path
    config = salvage(lambda: run.config, {}, "the report leaves out the configuration")
    experiment = str(config.get("experiment", ""))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>mlplab {html.escape(experiment)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>mlplab · {html.escape(experiment)}</h1><p><code>{html.escape(str(root))}</code></p>"]
    metrics = salvage(run.metrics, {}, "the report leaves out the final metrics")
    if metrics:
        parts.append("<h2>Metrics</h2>" + _kv_table(metrics))
    from mlplab.report.findings import findings_for

    findings = salvage(lambda: findings_for(run), [], "the report leaves out the findings")
    if findings:
        parts.append("<h2>Findings</h2>")
        for note in findings:
            parts.append(f"<h3>{html.escape(note.title)}</h3><div class='note'>{html.escape(note.text)}</div>")
    for table in sorted((root / "tables").glob("*.csv")):
        body = salvage(lambda t=table: _csv_table(t), None, "the report leaves out this table")
        if body is not None:
            parts.append(f"<h2>{html.escape(_caption(table))}</h2>" + body)
    figures = sorted((root / "figures").glob("*.png"))
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [f"<figure><img src='figures/{html.escape(f.name)}' alt='{html.escape(_caption(f))}'>"
                  f"<figcaption>{html.escape(_caption(f))}</figcaption></figure>" for f in figures]
    animations = sorted((root / "animations").glob("*.gif")) + sorted((root / "animations").glob("*.mp4"))
    if animations:
        parts.append("<h2>Animations</h2>")
        for a in animations:
            tag = (f"<video src='animations/{html.escape(a.name)}' controls loop></video>" if a.suffix == ".mp4"
                   else f"<img src='animations/{html.escape(a.name)}' alt='{html.escape(_caption(a))}'>")
            parts.append(f"<figure>{tag}<figcaption>{html.escape(_caption(a))}</figcaption></figure>")
    parts.append("<h2>Configuration</h2>" + _kv_table(config))
    env = salvage(lambda: run._json("env.json", dict), None, "the report leaves out the environment")
    if env:
        parts.append("<h2>Environment</h2>" + _kv_table(env))
    parts.append("</body></html>")
    target = root / "report.html"
    atomic_write_text(target, "\n".join(parts))
    return target
