"""The Python entry points: `mlplab.run`, `mlplab.open`, `mlplab.list_experiments`, `mlplab.config_of`,
`mlplab.sweep`, `mlplab.tune`.

The same validation, run folders and reports as the `mlplab` command, which calls these functions too.
Bad input raises `ConfigError` (the command's `UserError`) with the line the command prints; nothing here
prints or exits.
"""

from __future__ import annotations

import base64
import builtins
import html
import io
import json
import os
import shlex
from pathlib import Path
from typing import Any

from mlplab import runs
from mlplab.config import BaseConfig
from mlplab.errors import RunFailed, UserError, shown
from mlplab.paths import user_path
from mlplab.tune.entry import Study

ConfigError = UserError  # one name for Python users; the very class the command catches

__all__ = [
    "ConfigError",
    "Run",
    "RunFailed",
    "Study",
    "SweepSummary",
    "config_of",
    "list_experiments",
    "open",
    "run",
    "sweep",
    "tune",
]


def run(
    experiment: str,
    /,
    *overrides: str,
    out: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    root: str | os.PathLike = "runs",
    progress: bool | None = None,
    report: bool = True,
    **values: Any,
) -> Run:
    """Run an experiment as `mlplab run` does and return its run folder as a `Run`.

    Keys come as Python values (`hidden=[64, 32]`, `lr=1e-3`) or as the command's `"key=value"` texts.
    `out` names a new run folder (default ROOT/EXPERIMENT/TIMESTAMP); `resume` continues a stopped run.
    `progress`: bars on/off; by default on in a notebook or a terminal. `report=False` skips the figures and
    report.html (seconds of drawing for a run of seconds); `mlplab report RUN_DIR` builds them later.
    """
    from mlplab.experiments import execute
    from mlplab.progress import showing
    from mlplab.signals import sigterm_as_interrupt

    _check_name(experiment)
    for item in overrides:
        if not isinstance(item, str):
            raise ConfigError(f"expected key=value, got {item!r}; for example epochs=5")
    out = None if out is None else user_path("--out", out)
    resume = None if resume is None else user_path("--resume", resume)
    root = user_path("root", root)
    if out and resume:
        raise ConfigError(
            f"--resume continues {resume!r} in place, so --out {out!r} cannot apply; "
            "drop --out to resume, or drop --resume to start a new run there"
        )
    if out and os.path.isfile(out):
        raise ConfigError(f"--out {out!r} is a file, not a folder; give a folder path")
    with showing(progress), sigterm_as_interrupt():
        folder = execute(experiment, list(overrides), out=out, resume=resume, root=root, typed=values, report=report)
    return Run(folder.path)


def open(path: str | os.PathLike) -> Run:
    """An existing run folder (made by `mlplab run` or `mlplab.run`) as a `Run`."""
    return Run(path)


def list_experiments() -> dict[str, str]:
    """Every registered experiment's name and one-line description, by name."""
    from mlplab.experiments import EXPERIMENTS

    return {name: EXPERIMENTS.get(name).description for name in EXPERIMENTS.names()}


def config_of(experiment: str, /, **values: Any) -> BaseConfig:
    """The experiment's config dataclass with its defaults (and `values`), validated.

    `.help()` on it (or on its class) lists every key with its type, default and meaning.
    """
    from mlplab.config import parse_overrides
    from mlplab.experiments import EXPERIMENTS

    _check_name(experiment)
    return parse_overrides(EXPERIMENTS.get(experiment).config, [], typed=values)


def _check_name(experiment: Any) -> None:
    if not isinstance(experiment, str):
        raise ConfigError(
            f"expected an experiment name such as 'classify', got {shown(experiment)}; see mlplab.list_experiments()"
        )


class Run:
    """One run folder: its config, final metrics, per-epoch history, arrays, figures and report."""

    def __init__(self, path: str | os.PathLike):
        self._folder = runs.Run.open(path)  # ConfigError when it is not a run folder

    @property
    def path(self) -> Path:
        return self._folder.path

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, experiment={self.experiment!r})"

    @property
    def experiment(self) -> str:
        return self._folder.experiment

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config (every key, defaults included) from config.yaml."""
        return {k: v for k, v in self._folder.config.items() if k != "experiment"}

    @property
    def metrics(self) -> dict[str, Any]:
        """The final numbers from metrics.json."""
        return self._folder.metrics

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch (or per-step) rows from metrics.jsonl."""
        return self._folder.history

    def history_frame(self):
        """`history` as a pandas DataFrame."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Run.history_frame() needs pandas (pip install pandas); "
                "Run.history gives the same rows as a list of dicts"
            ) from None
        return pd.DataFrame(self.history)

    @property
    def array_names(self) -> list[str]:
        """Names accepted by `arrays(name)`."""
        return sorted(p.stem for p in (self.path / "arrays").glob("*.npz"))

    def arrays(self, name: str) -> dict[str, Any]:
        """The numpy arrays of arrays/NAME.npz (the data behind a figure)."""
        return self._folder.load_arrays(name)

    @property
    def figures(self) -> list[Path]:
        return sorted((self.path / "figures").glob("*.png"))

    @property
    def animations(self) -> list[Path]:
        folder = self.path / "animations"
        return sorted(folder.glob("*.gif")) + sorted(folder.glob("*.mp4"))

    @property
    def tables(self) -> list[Path]:
        return sorted((self.path / "tables").glob("*.csv"))

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    def main_numbers(self, limit: int = 8) -> dict[str, int | float]:
        """What `mlplab run` prints and a notebook shows: the run page's and the gallery's main numbers (one rule,
        report.summary.main_metrics)."""
        from mlplab.report.page.summary import main_metrics

        return dict(main_metrics(self.experiment, self.metrics)[:limit])

    def _repr_html_(self) -> str:
        esc = lambda value: html.escape(str(value), quote=True)
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>"
            for k, v in self.main_numbers().items()
        )
        thumbs = "".join(
            f"<figure style='display:inline-block;margin:4px'><img src='{uri}' alt='{esc(f.stem)}'>"
            f"<figcaption style='font-size:0.8em'>{esc(f.stem)}</figcaption></figure>"
            for f in self.figures[:3]
            if (uri := _thumbnail(f))
        )
        more = f"{len(self.figures)} figures, {len(self.animations)} animations"
        link = (
            f"<a href='{esc(_href(self.report))}' target='_blank'>report.html</a>"
            if self.report.is_file()
            else "no report.html yet (mlplab report RUN_DIR builds it)"
        )
        return (
            f"<div class='mlplab-run'><b>mlplab · {esc(self.experiment)}</b> <code>{esc(self.path)}</code>"
            f"<table>{rows}</table><div>{thumbs}</div><div>{link} · {esc(more)}</div></div>"
        )


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _thumbnail(path: Path, size: int = 240) -> str | None:
    """A small PNG of the figure as a data URI, so it shows wherever the notebook is opened."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            image.thumbnail((size, size))
            buf = io.BytesIO()
            image.save(buf, format="PNG")
    except (OSError, ValueError, ImportError):
        return None  # an unreadable figure is left out of the summary, not an error
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _href(path: Path) -> str:
    """A link the notebook server can follow: relative to the working folder when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


class SweepSummary:
    """What `mlplab.sweep` returns: the sweep folder and its summary, one row per grid point (as summary.csv)."""

    def __init__(self, path: Path, summary: dict[str, Any]):
        self.path = Path(path)
        self.summary = summary

    @property
    def rows(self) -> list[dict[str, Any]]:
        """summary.csv as dicts: rank, the varying keys, n_seeds, n_failed, METRIC_mean/std/ci_low/ci_high."""
        import csv

        with builtins.open(self.path / "summary.csv", newline="") as fh:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(fh)]

    def frame(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("SweepSummary.frame() needs pandas: pip install pandas (or use .rows)") from None
        return pd.DataFrame(self.rows)

    @property
    def report(self) -> Path:
        return self.path / "summary.html"

    def __repr__(self) -> str:
        return f"SweepSummary({str(self.path)!r}, {len(self.summary.get('points', []))} grid points)"

    def _repr_html_(self) -> str:
        rows = self.rows
        if not rows:
            return f"<p>sweep <code>{html.escape(str(self.path))}</code>: no grid point finished</p>"
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
        return (
            f"<p>sweep <code>{html.escape(str(self.path))}</code> · <a href='{html.escape(_href(self.report))}'>"
            f"summary.html</a></p><table><tr>{head}</tr>{body}</table>"
        )


def sweep(
    experiment: str,
    /,
    grid: dict[str, list[Any]] | None = None,
    *,
    seeds: int | list[int] = 3,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    out: str | os.PathLike | None = None,
    root: str | os.PathLike = "sweeps",
    report: bool = True,
) -> SweepSummary:
    """`mlplab sweep` from Python: every combination of `grid`'s values x `seeds` (a count, or the seeds).

    `mlplab.sweep("classify", grid={"lr": [1e-3, 3e-3], "hidden": [[256], [512, 256]]}, seeds=3)` runs the
    same trials, folder and summary as `mlplab sweep classify lr=0.001,0.003 hidden=[256],[512,256]
    seed=0,1,2`; re-running it resumes. Bad input raises ConfigError before any trial starts. `report=False`:
    the trials skip their figures and report.html (`--no-report`); the summary is made either way.
    """
    from mlplab.signals import sigterm_as_interrupt
    from mlplab.sweeps.runner import sweep as run_sweep

    _check_name(experiment)
    out = None if out is None else user_path("out", out)
    root = user_path("root", root)
    axes, command = _sweep_axes(experiment, grid, seeds)
    with sigterm_as_interrupt():
        result = run_sweep(
            experiment,
            axes,
            engine=engine,
            address=address,
            workers=workers,
            out=out,
            root=root,
            command=command,
            report=report,
        )
    return SweepSummary(result.path, result.summary)


def _sweep_axes(experiment: str, grid: Any, seeds: Any):
    """`mlplab.sweep`'s grid and seeds as a sweeps.Grid of value texts (never split again) and the command that
    reproduces it: `mlplab sweep ...` where the command line can say it, else this Python call."""
    from mlplab.sweeps.grid import axes_grid, split_values

    if grid is not None and not isinstance(grid, dict):
        raise ConfigError(
            f"grid must be a dict of key -> list of values, e.g. grid={{'lr': [1e-3, 1e-2]}}, not {type(grid).__name__}"
        )
    grid = dict(grid or {})
    if "seed" in grid:
        raise ConfigError("give the seeds as seeds=N or seeds=[...], not inside grid")
    seeds = seeds.tolist() if hasattr(seeds, "tolist") else seeds  # numpy: an integer, or an array of seeds
    if isinstance(seeds, bool) or not isinstance(seeds, (int, list, tuple)):
        raise ConfigError(f"seeds={seeds!r} must be a count (e.g. 3) or a list of seeds (e.g. [0, 1, 2])")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds={seeds} must be at least 1")
        seeds = list(range(seeds))
    if not seeds:
        raise ConfigError("seeds=[] lists no seed; give a count (e.g. 3) or at least one seed (e.g. [0])")
    texts = {key: [_grid_text(key, v) for v in _values(key, values)] for key, values in grid.items()}
    texts["seed"] = [_grid_text("seed", s) for s in _values("seed", seeds)]
    axes = axes_grid(experiment, texts)
    items = [f"{key}={','.join(values)}" for key, values in axes.axes.items()]
    if all(_splits_back(values, split_values) for values in axes.axes.values()):
        return axes, shlex.join(["mlplab", "sweep", experiment, *items])
    return (
        axes,
        f"mlplab.sweep({experiment!r}, grid={ {k: v for k, v in texts.items() if k != 'seed'}!r}, seeds={seeds!r})",
    )


def _splits_back(values: list[str], split) -> bool:
    try:
        return split(",".join(values)) == values
    except ConfigError:
        return False


def _values(key: str, values: Any) -> list[Any]:
    values = values.tolist() if hasattr(values, "tolist") and not isinstance(values, (str, bytes)) else values
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"grid[{key!r}] must be a non-empty list of values, e.g. grid={{{key!r}: [a, b]}}")
    return list(values)


def _grid_text(key: str, value: Any) -> str:
    """One grid value as the command line writes it (lists keep their brackets); text stays as it is."""
    value = value.tolist() if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        try:
            return json.dumps(list(value), separators=(",", ":"), allow_nan=False, default=_plain)
        except (TypeError, ValueError, RecursionError):
            raise ConfigError(f"grid[{key!r}]: {value!r} must hold finite numbers, texts or lists of them") from None
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    raise ConfigError(f"grid[{key!r}]: {value!r} is not a number, text, true/false or a list of them")


def _plain(value: Any) -> Any:
    """A numpy / torch scalar inside a list as a Python number (json.dumps' hook for what it cannot write)."""
    if hasattr(value, "tolist") and not isinstance(value, (list, dict)):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def tune(experiment: str, /, *space: str, **options: Any) -> Study:
    """`mlplab tune` from Python; see `mlplab.tune.entry.tune` (the same call)."""
    from mlplab.tune.entry import tune as run_tune

    return run_tune(experiment, *space, **options)
