"""index.html of a folder of runs: one card per run, a sortable and filterable table, sweep summaries linked.

Runs are found recursively (a folder with config.yaml naming an experiment); sweep folders (sweep.yaml)
are listed with links to their summary.html and sweep.yaml, and their trial runs appear as runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlplab.errors import UserError
from mlplab.report.page.assets import HEAD, STYLE, TABLE_SCRIPT
from mlplab.report.page.html import esc
from mlplab.report.page.summary import Summary, fmt_duration, fmt_number, summarize
from mlplab.runs import Run, atomic_write_text

_SKIP = {"checkpoints", "figures", "arrays", "animations", "tables", "tensorboard"}


@dataclass
class Sweep:
    path: Path


def find_runs(root: Path) -> tuple[list[Run], list[Sweep]]:
    """Every run folder and sweep folder under `root` (a run folder's own subfolders are not searched)."""
    runs, sweeps = [], []
    for folder, subdirs, files in os.walk(root):
        here = Path(folder)
        if "sweep.yaml" in files:
            sweeps.append(Sweep(here))
        if "config.yaml" in files and here != root:
            runs.append(Run(here))
            subdirs[:] = []
            continue
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP and not d.startswith("."))
    return runs, sweeps


def is_runs_folder(path: Path) -> bool:
    """True when `path` is not itself a run but holds runs or sweeps somewhere below it."""
    if (path / "config.yaml").is_file():
        return False
    runs, sweeps = find_runs(path)
    return bool(runs or sweeps)


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _card(s: Summary, root: Path) -> str:
    page = _rel(s.path / "report.html", root)
    thumb = (
        f"<img src='{esc(_rel(s.main_figure, root))}' alt='{esc(s.main_figure.stem)}' loading='lazy'>"
        if s.main_figure
        else "no figure"
    )
    metric = (
        f"<div class='metric'>{esc(fmt_number(*s.main[0]))}</div><div class='sub'>{esc(s.main[0][0])}</div>"
        if s.main
        else "<div class='sub'>no metrics</div>"
    )
    return (
        f"<a class='card' href='{esc(page)}'><div class='thumb'>{thumb}</div>"
        f"<div class='title'>{esc(s.experiment)}</div>"
        f"<div class='sub'>{esc(s.dataset)} · <span class='badge {esc(s.status)}'>{esc(s.status)}</span> · "
        f"{esc(s.started)}</div>{metric}</a>"
    )


def _row(s: Summary, root: Path) -> str:
    page = _rel(s.path / "report.html", root)
    others = [f"{k} {fmt_number(k, v)}" for k, v in s.main[1:]]
    first = s.main[0] if s.main else ("", None)
    cells = [
        (s.experiment, f"<a href='{esc(page)}' title='{esc(_rel(s.path, root))}'>{esc(s.experiment)}</a>"),
        (s.dataset, esc(s.dataset)),
        (s.status, f"<span class='badge {esc(s.status)}'>{esc(s.status)}</span>"),
        (s.started, esc(s.started)),
        (
            "" if s.seconds is None else f"{float(s.seconds):.3f}",
            "" if s.seconds is None else esc(fmt_duration(float(s.seconds))),
        ),
        (
            "" if first[1] is None else repr(float(first[1])),
            "" if first[1] is None else f"{esc(fmt_number(*first))} <span class='files'>{esc(first[0])}</span>",
        ),
        (" ".join(others), "<br>".join(esc(o) for o in others)),
    ]
    nowrap = (3, 4, 5)
    return (
        "<tr>"
        + "".join(
            f"<td data-sort='{esc(key)}'{' class=nowrap' if i in nowrap else ''}>{html}</td>"
            for i, (key, html) in enumerate(cells)
        )
        + "</tr>"
    )


def write_gallery(root: str | os.PathLike) -> Path:
    """(Re)write ROOT/index.html from every run and sweep below ROOT; return its path."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{str(root)!r} is not a folder; give a folder of runs (e.g. runs)")
    runs, sweeps = find_runs(root)
    summaries = sorted((summarize(r) for r in runs), key=lambda s: (s.started, str(s.path)), reverse=True)
    parts = [
        HEAD.format(title=esc(f"mlplab runs · {root.resolve().name}"), style=STYLE),
        f"<h1>mlplab runs</h1><div class='meta'><span><b>{len(summaries)}</b> "
        f"{'run' if len(summaries) == 1 else 'runs'} in "
        f"<code>{esc(root.resolve())}</code></span>"
        + (f"<span><b>{len(sweeps)}</b> sweeps</span>" if sweeps else "")
        + "</div>",
        "<p>Each card is one run folder: click it for its report (numbers, figures, animations and the "
        "command that reproduces it). The table below lists the same runs; click a column to sort, "
        "type to filter.</p>",
    ]
    if sweeps:
        items = []
        for sw in sorted(sweeps, key=lambda w: str(w.path)):
            links = [
                f"<a href='{esc(_rel(sw.path / n, root))}'>{esc(n)}</a>"
                for n in ("summary.html", "sweep.yaml")
                if (sw.path / n).is_file()
            ]
            items.append(f"<li><code>{esc(_rel(sw.path, root))}</code>: {' · '.join(links)}</li>")
        parts.append("<h2>Sweeps</h2><ul>" + "".join(items) + "</ul>")
    parts.append(
        "<div class='controls'><input id='filter' type='search' placeholder='filter: experiment, dataset, "
        f"status …' aria-label='filter runs'><span class='files'><span id='shown'>{len(summaries)}"
        "</span> shown</span></div>"
    )
    parts.append("<h2>Runs</h2><div class='cards'>" + "".join(_card(s, root) for s in summaries) + "</div>")
    heads = ["experiment", "dataset", "status", "started", "run time", "main number", "other main numbers"]
    parts.append(
        "<h2>All runs</h2><div class='scroll all'><table id='runs'><thead><tr>"
        + "".join(f"<th class='sortable'>{h}</th>" for h in heads)
        + "</tr></thead><tbody>"
        + "".join(_row(s, root) for s in summaries)
        + "</tbody></table></div>"
    )
    parts.append(TABLE_SCRIPT + "</body></html>\n")
    target = root / "index.html"
    atomic_write_text(target, "\n".join(parts))
    return target
