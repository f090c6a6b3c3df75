"""trials.jsonl: one line per finished trial, appended whole; what a resumed sweep may skip.

A line is written with a single `write` on a file opened for appending, then fsynced, so a kill leaves
whole lines and at most one torn last line, which reading skips and the next append does not glue to.
A trial counts as finished when its line says `ok` or `failed` and, for `ok`, its run folder holds
trial.json (written last by the worker). A trial whose worker kept dying (`crashed`) runs again on resume.
Lines are matched to trials by the trial's settings (`grid.trial_key`), never by id or position.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlplab.sweeps.worker import DONE_FILE, TRIALS_DIR

FINISHED = ("ok", "failed")


class Ledger:
    def __init__(self, sweep_dir: Path, identify: Callable[[dict[str, Any]], str | None]):
        """`identify(line)`: the key of the trial a line records (`grid.trial_key`), None for no trial of the grid."""
        self.sweep_dir = Path(sweep_dir)
        self.path = self.sweep_dir / "trials.jsonl"
        self.identify = identify

    def lines(self) -> list[dict[str, Any]]:
        """Every whole, readable line, in the order written."""
        if not self.path.is_file():
            return []
        rows = []
        for line in self.path.read_text(errors="replace").splitlines():
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                continue  # a line torn by a kill
            if _well_formed(row):
                rows.append(row)
        return rows

    def append(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size and not self._ends_with_newline():
                data = b"\n" + data  # never glue a line to a torn one
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def finished(self) -> dict[str, dict[str, Any]]:
        """trial key -> its record, for trials that need not run again (the first finished line wins)."""
        done: dict[str, dict[str, Any]] = {}
        for row in self.lines():
            key = self.identify(row)
            if key is None or key in done or row.get("status") not in FINISHED:
                continue
            if row["status"] == "ok" and not (
                isinstance(row.get("run"), str) and (self.sweep_dir / row["run"] / DONE_FILE).is_file()
            ):
                continue  # the folder was lost or damaged: run the trial again
            done[key] = row
        return done

    def recover(self, keys: set[str]) -> tuple[dict[str, dict[str, Any]], int]:
        """Adopt trials that finished but were not yet recorded (killed in between); delete unfinished folders.

        Returns (finished records by trial key, number of unfinished folders removed)."""
        done = self.finished()
        referenced = {row["run"] for row in done.values()}
        removed = 0
        folder = self.sweep_dir / TRIALS_DIR
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            rel = f"{TRIALS_DIR}/{path.name}"
            if rel in referenced or not path.is_dir():
                continue
            record = _read_done(path / DONE_FILE)
            key = self.identify(record) if record is not None else None
            if key in keys and key not in done and record.get("status") in FINISHED and record.get("run") == rel:
                self.append(record)
                done[key] = record
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        return done, removed


def _well_formed(row: Any) -> bool:
    """A line with the fields a resume reads, of the types it reads them as (a damaged line is skipped)."""
    return (
        isinstance(row, dict)
        and isinstance(row.get("id"), str)
        and isinstance(row.get("status"), str)
        and (row.get("run") is None or isinstance(row.get("run"), str))
        and isinstance(row.get("overrides"), list)
        and all(isinstance(o, str) for o in row["overrides"])
    )


def _read_done(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return record if _well_formed(record) else None
