"""report.html, the run page: header and command, main numbers, findings beside their numbers, tables,
figures with captions and the data behind them, animations, configuration and environment (collapsed).

Self-contained (relative links only, inline CSS/JS), and every string from the run folder is escaped.
Figure captions come from figures/captions.json ({"stem": "caption"}) when a figure builder writes one,
else from the file name.
"""

from __future__ import annotations

import csv
import json
import struct
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from mlplab.report.page.assets import COPY_SCRIPT, HEAD, STYLE
from mlplab.report.page.damage import salvage
from mlplab.report.page.summary import Summary, fmt_duration, fmt_number, is_number, summarize
from mlplab.runs import Run, atomic_write_text

MAX_TABLE_ROWS = 200
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


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def caption_for(stem: str, captions: dict[str, str]) -> str:
    """A figure's caption: the builder's, else its name as words ("loss_curves" -> "Loss curves")."""
    if stem in captions:
        return str(captions[stem])
    words = [w.upper() if w.lower() in ACRONYMS else w for w in stem.replace("-", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


# ---- numbers and tables ----------------------------------------------------------------------------
def _cell(key: str, value: Any) -> str:
    if is_number(value):
        return f"<td class='num' title='{esc(value)}'>{esc(fmt_number(key, value))}</td>"
    if isinstance(value, (dict, list)):
        return f"<td>{value_table(key, value)}</td>"
    if isinstance(value, bool):
        return f"<td>{'true' if value else 'false'}</td>"
    return f"<td>{esc('–' if value is None else value)}</td>"


def value_table(key: str, value: Any) -> str:
    """A dict or list metric as a real table: {k: number} -> rows; {k: {col: number}} -> a matrix."""
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        cols: list[str] = []
        for row in value.values():
            cols += [c for c in row if c not in cols]
        head = "<tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>"
        body = "".join(
            f"<tr><th>{esc(r)}</th>" + "".join(_cell(str(c), row.get(c)) for c in cols) + "</tr>"
            for r, row in list(value.items())[:MAX_TABLE_ROWS]
        )
        return f"<div class='scroll'><table>{head}{body}</table></div>"
    if isinstance(value, dict):
        return "<table>" + "".join(f"<tr><th>{esc(k)}</th>{_cell(key, v)}</tr>" for k, v in value.items()) + "</table>"
    if isinstance(value, list) and value and all(is_number(v) for v in value):
        head = "".join(f"<th>{i}</th>" for i in range(len(value[:MAX_TABLE_ROWS])))
        cells = "".join(_cell(key, v) for v in value[:MAX_TABLE_ROWS])
        return f"<div class='scroll'><table><tr>{head}</tr><tr>{cells}</tr></table></div>"
    if isinstance(value, list):
        return "<table>" + "".join(f"<tr>{_cell(key, v)}</tr>" for v in value[:MAX_TABLE_ROWS]) + "</table>"
    return esc(value)


def csv_table(path: Path) -> str:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return "<p class='files'>(empty table)</p>"
    names = rows[0]
    head = "".join(f"<th>{esc(c)}</th>" for c in names)
    body = []
    for row in rows[1 : MAX_TABLE_ROWS + 1]:
        body.append(
            "<tr>" + "".join(_cell(names[i] if i < len(names) else "", _parse(c)) for i, c in enumerate(row)) + "</tr>"
        )
    more = (
        f"<p class='files'>{len(rows) - 1 - MAX_TABLE_ROWS} more rows in the CSV</p>"
        if len(rows) - 1 > MAX_TABLE_ROWS
        else ""
    )
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>{more}"


def _parse(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value == value else text


# ---- findings --------------------------------------------------------------------------------------
class Findings:
    """Findings handed out next to the numbers they are about; what is left goes to the top."""

    def __init__(self, run: Run):
        from mlplab.report.page.findings import findings_for

        self.left = list(salvage(lambda: findings_for(run), [], "the report leaves out the findings"))

    def take(self, abouts: Iterable[str]) -> str:
        wanted = set(abouts)
        mine = [f for f in self.left if f.about and f.about in wanted]
        self.left = [f for f in self.left if f not in mine]
        return "".join(self.render(f) for f in mine)

    @staticmethod
    def render(f) -> str:
        return f"<div class='finding'><b>{esc(f.title)}</b>{esc(f.text)}</div>"


# ---- sections --------------------------------------------------------------------------------------
def header(s: Summary, run: Run) -> str:
    meta = [
        f"<span class='badge {esc(s.status)}'>{esc(s.status)}</span>",
        f"<span>dataset <b>{esc(s.dataset or '–')}</b></span>",
    ]
    if s.started:
        meta.append(f"<span>started <b>{esc(s.started)}</b></span>")
    if s.seconds is not None:
        meta.append(f"<span>run time <b>{esc(fmt_duration(float(s.seconds)))}</b></span>")
    meta.append(f"<span>folder <code>{esc(run.path.name)}</code></span>")
    gallery = _gallery_link(run)
    crumb = f"<div class='crumb'><a href='{esc(gallery)}'>← all runs</a></div>" if gallery else ""
    error = f"<div class='error'>{esc(s.error)}</div>" if s.error and s.status in ("failed", "interrupted") else ""
    return (
        f"{crumb}<h1>{esc(s.experiment)} <span style='font-weight:400;color:#5b6475'>on {esc(s.dataset)}</span>"
        f"</h1><div class='meta'>{''.join(meta)}</div>{error}"
        "<div class='cmd'><pre id='command'>" + esc(s.command) + "</pre>"
        "<button type='button' data-copy='command' title='copy the command that reproduces this run'>Copy"
        "</button></div>"
    )


def _gallery_link(run: Run) -> str:
    """A relative link to the nearest index.html above the run (the gallery), or ""."""
    for up, parent in enumerate(run.path.resolve().parents, start=1):
        if (parent / "index.html").is_file():
            return "../" * up + "index.html"
        if up >= 4:
            break
    return ""


def main_numbers(s: Summary, findings: Findings) -> str:
    if not s.main:
        return ""
    tiles = "".join(
        f"<div class='tile'><div class='value' title='{esc(v)}'>{esc(fmt_number(k, v))}</div>"
        f"<div class='label'>{esc(k)}</div></div>"
        for k, v in s.main
    )
    return f"<div class='tiles'>{tiles}</div>" + findings.take(k for k, _ in s.main)


def other_numbers(s: Summary, metrics: dict[str, Any], findings: Findings) -> str:
    """Scalars and short lists in one key/value table; flat dicts sharing their keys in one matrix each."""
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
            blocks.append(f"<h3>{esc(caption_for(k, {}))}</h3>{value_table(k, v)}{findings.take([k])}")
        else:
            inline[k] = v
    groups: dict[tuple, list[str]] = {}
    for k, d in flat.items():
        groups.setdefault(tuple(d), []).append(k)
    for keys, names in groups.items():
        title = " · ".join(caption_for(n, {}) for n in names)
        blocks.append(f"<h3>{esc(title)}</h3>{dict_matrix(keys, names, flat)}{findings.take(names)}")
    parts = []
    if inline:
        rows = "".join(f"<tr><th>{esc(k)}</th>{_cell(k, v)}</tr>" for k, v in inline.items())
        parts.append(f"<table class='kv'>{rows}</table>" + findings.take(inline))
    return "<h2>All numbers</h2>" + "".join(parts + blocks) if parts or blocks else ""


def dict_matrix(keys: tuple, names: list[str], flat: dict[str, dict]) -> str:
    """Dicts with the same keys (per class, per layer) as one table: a row per metric, a column per key
    (transposed when there are many keys)."""
    if len(keys) <= 16:
        head = "<tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in keys) + "</tr>"
        body = "".join(f"<tr><th>{esc(n)}</th>" + "".join(_cell(n, flat[n][c]) for c in keys) + "</tr>" for n in names)
    else:
        head = "<tr><th></th>" + "".join(f"<th>{esc(n)}</th>" for n in names) + "</tr>"
        body = "".join(f"<tr><th>{esc(c)}</th>" + "".join(_cell(n, flat[n][c]) for n in names) + "</tr>" for c in keys)
    return f"<div class='scroll'><table>{head}{body}</table></div>"


def _linked(stem: str, files: list[Path]) -> list[Path]:
    """Arrays/tables behind a figure: same name, or one name a `_`-prefix of the other."""
    return [f for f in files if f.stem == stem or stem.startswith(f.stem + "_") or f.stem.startswith(stem + "_")]


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG or GIF header, (0, 0) when unknown."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", head[16:24])
    if head[:3] == b"GIF":
        return struct.unpack("<HH", head[6:10])
    return 0, 0


def _wide(path: Path) -> str:
    w, h = image_size(path)
    return " class='wide'" if h and w >= 2 * h else ""


def tables(run: Run, findings: Findings) -> str:
    parts = []
    for t in sorted((run.path / "tables").glob("*.csv")):
        parts.append(
            f"<h3>{esc(caption_for(t.stem, {}))} <a class='files' href='tables/{esc(t.name)}'>CSV</a></h3>"
            + csv_table(t)
            + findings.take([t.stem])
        )
    return "<h2>Tables</h2>" + "".join(parts) if parts else ""


def figures(run: Run, findings: Findings) -> str:
    root = run.path
    captions = _read_json(root / "figures" / "captions.json")
    data = sorted((root / "arrays").glob("*.npz")) + sorted((root / "tables").glob("*.csv"))
    items = []
    for f in sorted((root / "figures").glob("*.png")):
        behind = _linked(f.stem, data)
        links = " · ".join(f"<a href='{esc(d.parent.name)}/{esc(d.name)}'>{esc(d.name)}</a>" for d in behind)
        items.append(
            f"<figure{_wide(f)}><a href='figures/{esc(f.name)}'><img src='figures/{esc(f.name)}' loading='lazy' "
            f"alt='{esc(caption_for(f.stem, captions))}'></a><figcaption>{esc(caption_for(f.stem, captions))}"
            + (f"<br><span class='files'>data: {links}</span>" if links else "")
            + f"</figcaption>{findings.take([f.stem])}</figure>"
        )
    out = "<h2>Figures</h2><div class='figs'>" + "".join(items) + "</div>" if items else ""
    linked = {d for f in (root / "figures").glob("*.png") for d in _linked(f.stem, data)}
    rest = [d for d in data if d not in linked and d.suffix == ".npz"]
    if rest:
        out += (
            "<p class='files'>Other arrays: "
            + " · ".join(f"<a href='arrays/{esc(d.name)}'>{esc(d.name)}</a>" for d in rest)
            + "</p>"
        )
    return out


def animations(run: Run) -> str:
    folder = run.path / "animations"
    captions = _read_json(run.path / "figures" / "captions.json")
    stems = sorted({p.stem for p in folder.glob("*.gif")} | {p.stem for p in folder.glob("*.mp4")})
    items = []
    for stem in stems:
        gif, mp4 = folder / f"{stem}.gif", folder / f"{stem}.mp4"
        label = esc(caption_for(stem, captions))
        media = (
            f"<video src='animations/{esc(mp4.name)}' autoplay loop muted playsinline "
            f"title='click to pause or play' aria-label='{label}'></video>"
            if mp4.is_file()
            else f"<img src='animations/{esc(gif.name)}' alt='{label}'>"
        )
        files = " · ".join(
            f"<a href='animations/{esc(p.name)}'>{esc(p.suffix[1:].upper())}</a>" for p in (gif, mp4) if p.is_file()
        )
        items.append(
            f"<figure class='wide anim'>{media}<figcaption>{label} "
            f"<span class='files'>({files})</span></figcaption></figure>"
        )
    return "<h2>Animations</h2><div class='figs'>" + "".join(items) + "</div>" if items else ""


def details(run: Run) -> str:
    config = salvage(lambda: run.config, {}, "the report leaves out the configuration")
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td><code>{esc(json.dumps(v) if not isinstance(v, str) else v)}</code></td></tr>"
        for k, v in config.items()
    )
    out = (
        f"<details><summary>Configuration (resolved, config.yaml)</summary><table>{rows}</table></details>"
        if rows
        else ""
    )
    env = salvage(lambda: run._json("env.json", dict), None, "the report leaves out the environment")
    if env:
        rows = "".join(
            f"<tr><th>{esc(k)}</th><td><code>{esc(json.dumps(v) if not isinstance(v, str) else v)}</code></td></tr>"
            for k, v in env.items()
        )
        out += f"<details><summary>Environment (env.json)</summary><table>{rows}</table></details>"
    files = [
        p
        for p in ("config.yaml", "metrics.json", "metrics.jsonl", "env.json", "status.json")
        if (run.path / p).is_file()
    ]
    ckpts = sorted((run.path / "checkpoints").glob("*.pt"))
    links = [f"<a href='{esc(p)}'>{esc(p)}</a>" for p in files]
    links += [f"<a href='checkpoints/{esc(c.name)}'>checkpoints/{esc(c.name)}</a>" for c in ckpts]
    return out + f"<p class='files'>Files: {' · '.join(links)}</p>"


def write_html(run: Run) -> Path:
    """Rebuild report.html from the files in the run folder."""
    s = summarize(run)
    findings = Findings(run)
    lead = main_numbers(s, findings)
    numbers = other_numbers(s, salvage(run.metrics, {}, "the report leaves out the final metrics"), findings)
    tabs, figs, anims = tables(run, findings), figures(run, findings), animations(run)
    lead += "".join(Findings.render(f) for f in findings.left)  # about the whole run, or nothing shown
    body = [header(s, run), lead, figs, anims, numbers, tabs, "<h2>Configuration and environment</h2>", details(run)]
    page = HEAD.format(title=esc(f"{s.experiment} · {run.path.name} · mlplab"), style=STYLE)
    page += "\n".join(body) + COPY_SCRIPT + "</body></html>\n"
    target = run.path / "report.html"
    atomic_write_text(target, page)
    return target
