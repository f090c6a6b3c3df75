"""index.html of a folder of runs: one card per run, a sortable and filterable table, sweep summaries linked.
This module finds the runs and what each card shows; the layout is templates/gallery.html.j2 (autoescape on).

Runs are found recursively (a folder with config.yaml naming an experiment); sweep folders (sweep.yaml)
are listed with links to their summary.html and sweep.yaml, tuning studies (tune.yaml) with a link to their
study.html, their trial counts, best value and verdict; the trial runs of both appear as runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from mlplab.errors import UserError
from mlplab.report.page.damage import salvage
from mlplab.report.page.study import damaged_row, is_study, study_row
from mlplab.report.page.summary import fmt_number, summarize
from mlplab.report.page.templates import render
from mlplab.runs import Run, atomic_write_text

# The gallery's own mark: an index.html without it (or the heading every earlier gallery had) is not replaced.
GALLERY_MARK = "<!-- mlplab gallery: rebuilt by `mlplab report RUNS_DIR` -->"
_SKIP = {"checkpoints", "figures", "arrays", "animations", "tables", "tensorboard"}


@dataclass
class Sweep:
    path: Path


@dataclass
class Found:
    runs: list[Run]
    sweeps: list[Sweep]
    studies: list[Path]


def find_runs(root: Path) -> tuple[list[Run], list[Sweep]]:
    """Every run folder and sweep folder under `root` (a run folder's own subfolders are not searched)."""
    found = find(root)
    return found.runs, found.sweeps


def find(root: Path) -> Found:
    """Every run, sweep and study folder under `root` (a run folder's own subfolders are not searched)."""
    runs, sweeps, studies = [], [], []
    for folder, subdirs, files in os.walk(root):
        here = Path(folder)
        if "sweep.yaml" in files:
            sweeps.append(Sweep(here))
        if is_study(here):
            studies.append(here)
        if "config.yaml" in files and here != root and Run(here).is_mlplab():
            runs.append(Run(here))
            subdirs[:] = []
            continue
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP and not d.startswith("."))
    return Found(runs, sweeps, studies)


def is_runs_folder(path: Path) -> bool:
    """True when `path` is not itself a run but holds runs, sweeps or studies somewhere below it."""
    if (path / "config.yaml").is_file():
        return False
    folders = find(path)
    return bool(folders.runs or folders.sweeps or folders.studies)


def is_gallery(path: Path) -> bool:
    """Whether the file at `path` is a gallery mlplab wrote (its mark, or the heading of an earlier version's)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16).decode("utf-8", errors="replace")
    except OSError:
        return False
    return GALLERY_MARK in head or "<h1>mlplab runs</h1>" in head


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def write_gallery(root: str | os.PathLike) -> Path:
    """(Re)write ROOT/index.html from every run and sweep below ROOT; return its path."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{str(root)!r} is not a folder; give a folder of runs (e.g. runs)")
    folders = find(root)
    runs, sweeps = folders.runs, folders.sweeps
    target = root / "index.html"
    if target.exists() and not is_gallery(target):
        raise UserError(
            f"{str(target)!r} was not written by mlplab, so `mlplab report` does not replace it; "
            "move it away, or keep the runs in another folder"
        )
    found = [salvage(lambda r=r: summarize(r), None, "the gallery leaves out that run", run=r) for r in runs]
    summaries = sorted((s for s in found if s), key=lambda s: (s.started, str(s.path)), reverse=True)
    cards = [
        {
            "s": s,
            "page": _rel(s.path / "report.html", root),
            "folder": _rel(s.path, root),
            "thumb": _rel(s.main_figure, root) if s.main_figure else "",
            "thumb_alt": s.main_figure.stem if s.main_figure else "",
            "first_sort": repr(float(s.main[0][1])) if s.main and s.main[0][1] is not None else "",
            "others": [f"{k} {fmt_number(k, v)}" for k, v in s.main[1:]],
        }
        for s in summaries
    ]
    sweep_rows = [
        {
            "path": _rel(sw.path, root),
            "links": [(_rel(sw.path / n, root), n) for n in ("summary.html", "sweep.yaml") if (sw.path / n).is_file()],
        }
        for sw in sorted(sweeps, key=lambda w: str(w.path))
    ]
    studies = [
        salvage(lambda p=p: study_row(p), damaged_row(p), "the gallery shows that study without its numbers")
        for p in folders.studies
    ]
    study_rows = [
        {
            "s": st,
            "path": _rel(st.path, root),
            "page": _rel(st.page, root) if st.page else "",
            "best": fmt_number(st.metric, st.best) if st.best is not None else "",
        }
        for st in studies
    ]
    page = render(
        "gallery.html.j2",
        title=f"mlplab runs · {root.resolve().name}",
        root=root.resolve(),
        cards=cards,
        sweeps=sweep_rows,
        studies=study_rows,
        mark=Markup(GALLERY_MARK),
        heads=["experiment", "dataset", "status", "started", "run time", "main number", "other main numbers"],
    )
    atomic_write_text(target, page)
    return target
