"""`mlplab.tune(...)` and the `Study` it returns (re-exported by mlplab.api; here so that the callable package
`mlplab.tune` reaches it without importing upwards)."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import shlex
from pathlib import Path
from typing import Any

from mlplab.errors import UserError as ConfigError
from mlplab.tune.options import NAMES, Options, entry_signature


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _href(path: Path) -> str:
    """A link the notebook server can follow: relative to the working folder when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def tune(experiment: str, /, *space: str, **keywords: Any) -> Study:
    """`mlplab tune` from Python: `mlplab.tune("classify", "lr=loguniform(1e-4,1e-2)", "hidden=choice([256],[512])",
    trials=20, dataset="fashion-mnist")` searches the spaces (texts as on the command line) with the keywords as
    fixed keys, then confirms the best configuration against the defaults on `confirm_seeds` fresh seeds.
    The keywords named in tune.options.Options (trials, metric, pruner, confirm_seeds, engine, address, workers,
    storage, out, root) are the study's options; every other keyword is a fixed key of the experiment.
    Re-running it resumes the study. Bad input raises ConfigError before any trial starts."""
    from mlplab.config import format_overrides
    from mlplab.tune.runner import tune as run_tune

    if not isinstance(experiment, str):
        raise ConfigError(f"expected an experiment name such as 'classify', got {experiment!r}")
    for item in space:
        if not isinstance(item, str):
            raise ConfigError(f"expected key=SPACE, got {item!r}; for example 'lr=loguniform(1e-4,1e-2)'")
    options = Options(**{k: v for k, v in keywords.items() if k in NAMES})
    items = [*space, *format_overrides({k: v for k, v in keywords.items() if k not in NAMES})]
    paths = {"out": None if options.out is None else os.fspath(options.out), "root": os.fspath(options.root)}
    result = run_tune(
        experiment,
        items,
        command=shlex.join(
            ["mlplab", "tune", experiment, *items, f"--trials={options.trials}", f"--metric={options.metric}"]
        ),
        **(dataclasses.asdict(options) | paths),
    )
    return Study(result.path)


tune.__signature__ = entry_signature()  # help() and editors show the options as keywords


class Study:
    """A finished (or resumed) study folder: its trials, the best configuration and the confirmation."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        file = self.path / "study.json"
        if not file.is_file():
            raise ConfigError(
                f"{str(self.path)!r} is not a study folder (no study.json); give a folder of `mlplab tune`"
            )
        self.result = json.loads(file.read_text())

    @property
    def table(self) -> list[dict[str, Any]]:
        """One row per trial: trial, state, the metric, epochs run, each searched key, run folder."""
        return [
            {
                "trial": r["trial"],
                "state": r["state"],
                self.result["metric"]: r["value"],
                "epochs_run": r["epochs_run"],
                **r["params"],
                "run": r["run"],
            }
            for r in self.result["trials"]
        ]

    def frame(self):
        """`table` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Study.frame() needs pandas: pip install pandas (or use .table)") from None
        return pd.DataFrame(self.table)

    @property
    def best(self) -> dict[str, Any] | None:
        return self.result["best"]

    @property
    def confirmation(self) -> dict[str, Any] | None:
        return self.result["confirmation"]

    @property
    def report(self) -> Path:
        return self.path / "study.html"

    def __repr__(self) -> str:
        return f"Study({str(self.path)!r}, {len(self.result['trials'])} trials)"

    def _repr_html_(self) -> str:
        esc = lambda value: html.escape(_fmt(value), quote=True)
        rows = self.table
        head = "".join(f"<th>{esc(k)}</th>" for k in (rows[0] if rows else {}))
        body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in r.values()) + "</tr>" for r in rows)
        conf = self.confirmation
        verdict = f"<p><b>Confirmation:</b> {esc(conf['verdict'])}</p>" if conf else ""
        return (
            f"<p>study <code>{esc(self.path)}</code> · <a href='{esc(_href(self.report))}'>study.html</a></p>"
            f"{verdict}<table><tr>{head}</tr>{body}</table>"
        )
