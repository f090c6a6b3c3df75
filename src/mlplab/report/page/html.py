"""report.html, the run page: header and command, main numbers, findings beside their numbers, tables,
figures with captions and the data behind them, animations, configuration and environment (collapsed).

Self-contained (relative links only, inline CSS/JS). This module gathers what each section shows; the layout is
templates/run.html.j2, rendered with autoescape on, so every string from the run folder is escaped.
Figure captions come from figures/captions.json ({"stem": "caption"}) when a figure builder writes one,
else from the file name.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlplab.report.page.damage import log, salvage
from mlplab.report.page.findings import Finding, findings_for
from mlplab.report.page.summary import Summary, fmt_number, summarize
from mlplab.report.page.templates import render
from mlplab.runs import Run, atomic_write_text, read_csv

ACRONYMS = {
    "pca",
    "mse",
    "sse",
    "knn",
    "ae",
    "cnn",
    "gan",
    "mlp",
    "ood",
    "l1",
    "l2",
    "auc",
    "roc",
    "auroc",
    "mnist",
    "fid",
    "lr",
    "sgd",
    "csv",
    "tsne",
    "umap",
    "relu",
}


def caption_for(stem: str, captions: dict[str, str]) -> str:
    """A figure's caption: the builder's, else its name as words ("loss_curves" -> "Loss curves")."""
    if stem in captions:
        return str(captions[stem])
    words = [w.upper() if w.lower() in ACRONYMS else w for w in stem.replace("-", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object the page only decorates with (captions): a damaged file is a warning naming it, and {}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: torn JSON or not UTF-8
        log.warning("%s is damaged (%s); the page leaves out what it says", path, type(exc).__name__)
        return {}
    if not isinstance(data, dict):
        log.warning("%s is damaged (not a JSON object); the page leaves out what it says", path)
        return {}
    return data


# ---- findings --------------------------------------------------------------------------------------
class Findings:
    """Findings handed out next to the numbers they are about; what is left goes to the top."""

    def __init__(self, run: Run):
        self.left = list(salvage(lambda: findings_for(run), [], "the report leaves out the findings", run=run))

    def take(self, abouts: Iterable[str]) -> list[Finding]:
        wanted = set(abouts)
        mine = [f for f in self.left if f.about and f.about in wanted]
        self.left = [f for f in self.left if f not in mine]
        return mine


# ---- what the sections show (run.html.j2 lays it out) -------------------------------------------------
def _gallery_link(run: Run) -> str:
    """A relative link to the nearest gallery above the run (an index.html mlplab wrote), or ""."""
    from mlplab.report.page.gallery import is_gallery

    for up, parent in enumerate(run.path.resolve().parents, start=1):
        if (parent / "index.html").is_file() and is_gallery(parent / "index.html"):
            return "../" * up + "index.html"
        if up >= 4:
            break
    return ""


def _linked(stem: str, files: list[Path]) -> list[Path]:
    """Arrays/tables behind a figure: same name, or one name a `_`-prefix of the other."""
    return [f for f in files if f.stem == stem or stem.startswith(f.stem + "_") or f.stem.startswith(stem + "_")]


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG or GIF header, (0, 0) when unknown."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 24:
        return struct.unpack(">II", head[16:24])
    if head[:3] == b"GIF" and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    return 0, 0


def _is_wide(path: Path) -> bool:
    w, h = image_size(path)
    return bool(h and w >= 2 * h)


def other_numbers(s: Summary, metrics: dict[str, Any], findings: Findings) -> dict[str, Any]:
    """Scalars and short lists in one key/value table; flat dicts sharing their keys in one matrix each (a row per
    metric, a column per key; transposed when there are many keys); other dicts and lists as tables of their own."""
    shown = {k for k, _ in s.main}
    inline: dict[str, Any] = {}
    flat: dict[str, dict] = {}
    blocks = []
    for k, v in metrics.items():
        if k in shown:
            continue
        if isinstance(v, list) and len(v) <= 12 and not any(isinstance(x, (dict, list)) for x in v):
            inline[k] = ", ".join(fmt_number(k, x) for x in v) or "(none)"
        elif isinstance(v, dict) and v and not any(isinstance(x, (dict, list)) for x in v.values()):
            flat[k] = v
        elif isinstance(v, (dict, list)):
            blocks.append(
                {"title": caption_for(k, {}), "matrix": False, "key": k, "value": v, "findings": findings.take([k])}
            )
        else:
            inline[k] = v
    groups: dict[tuple, list[str]] = {}
    for k, d in flat.items():
        groups.setdefault(tuple(d), []).append(k)
    for keys, names in groups.items():
        title = " · ".join(caption_for(n, {}) for n in names)
        blocks.append(
            {
                "title": title,
                "matrix": True,
                "cols": keys,
                "names": names,
                "flat": flat,
                "findings": findings.take(names),
            }
        )
    return {"inline": list(inline.items()), "inline_findings": findings.take(inline), "blocks": blocks}


def tables(run: Run, findings: Findings) -> list[dict[str, Any]]:
    out = []
    for t in sorted((run.path / "tables").glob("*.csv")):
        rows = salvage(lambda t=t: read_csv(t), None, "the report leaves out that table")
        out.append(
            {"name": t.name, "caption": caption_for(t.stem, {}), "rows": rows, "findings": findings.take([t.stem])}
        )
    return out


def figures(run: Run, findings: Findings) -> tuple[list[dict[str, Any]], list[str]]:
    """The figures (with the arrays and tables behind each), and the arrays behind none of them."""
    root = run.path
    captions = _read_json(root / "figures" / "captions.json")
    data = sorted((root / "arrays").glob("*.npz")) + sorted((root / "tables").glob("*.csv"))
    items = []
    for f in sorted((root / "figures").glob("*.png")):
        items.append(
            {
                "name": f.name,
                "wide": _is_wide(f),
                "caption": caption_for(f.stem, captions),
                "data": [f"{d.parent.name}/{d.name}" for d in _linked(f.stem, data)],
                "findings": findings.take([f.stem]),
            }
        )
    linked = {d for f in (root / "figures").glob("*.png") for d in _linked(f.stem, data)}
    return items, [d.name for d in data if d not in linked and d.suffix == ".npz"]


def animations(run: Run) -> list[dict[str, Any]]:
    folder = run.path / "animations"
    captions = _read_json(run.path / "figures" / "captions.json")
    stems = sorted({p.stem for p in folder.glob("*.gif")} | {p.stem for p in folder.glob("*.mp4")})
    out = []
    for stem in stems:
        gif, mp4 = folder / f"{stem}.gif", folder / f"{stem}.mp4"
        out.append(
            {
                "label": caption_for(stem, captions),
                "gif": gif.name,
                "mp4": mp4.name if mp4.is_file() else "",
                "files": [p.name for p in (gif, mp4) if p.is_file()],
            }
        )
    return out


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def write_html(run: Run) -> Path:
    """Rebuild report.html from the files in the run folder."""
    s = summarize(run)
    findings = Findings(run)
    lead = findings.take(k for k, _ in s.main) if s.main else []
    numbers = other_numbers(s, salvage(lambda: run.metrics, {}, "the report leaves out the final metrics"), findings)
    tabs = tables(run, findings)
    figs, other_arrays = figures(run, findings)
    anims = animations(run)
    config = salvage(lambda: run.config, {}, "the report leaves out the configuration")
    env = salvage(lambda: run._json("env.json", dict), None, "the report leaves out the environment")
    files = [
        p
        for p in ("config.yaml", "metrics.json", "metrics.jsonl", "env.json", "status.json")
        if (run.path / p).is_file()
    ]
    files += [f"checkpoints/{c.name}" for c in sorted((run.path / "checkpoints").glob("*.pt"))]
    page = render(
        "run.html.j2",
        title=f"{s.experiment} · {run.path.name} · mlplab",
        s=s,
        folder=run.path.name,
        gallery=_gallery_link(run),
        lead=lead,
        rest=findings.left,  # about the whole run, or about nothing shown: at the top
        figures=figs,
        other_arrays=other_arrays,
        animations=anims,
        numbers=numbers,
        tables=tabs,
        config=[(k, _as_text(v)) for k, v in config.items()],
        env=[(k, _as_text(v)) for k, v in env.items()] if env else [],
        files=files,
    )
    target = run.path / "report.html"
    atomic_write_text(target, page)
    return target
