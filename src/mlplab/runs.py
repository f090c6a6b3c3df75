"""The run folder: resolved config, metrics, arrays, checkpoints; every write is atomic.

A file is first written beside its target under a temporary name, flushed to disk, then renamed
over the target, so a crash or a kill leaves either the old file or the new one, never half of one.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import yaml

from mlplab.errors import UserError

SUBDIRS = ("checkpoints", "figures", "arrays", "animations", "tables")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Numbers from numpy/torch become plain Python numbers; tuples become lists."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and value != value:
        return None
    return value


def git_commit(start: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=start, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class Run:
    """One run folder. Create with `Run.create`, reopen with `Run.open`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # ---- creation and opening -------------------------------------------------------------
    @classmethod
    def create(cls, experiment: str, config: dict[str, Any], out: str | os.PathLike | None = None,
               root: str | os.PathLike = "runs") -> "Run":
        """Make a fresh folder (`out`, or runs/EXPERIMENT/TIMESTAMP) and write config.yaml."""
        if out is not None:
            path = Path(out)
            if path.exists() and not path.is_dir():
                raise UserError(f"--out {str(path)!r} is a file, not a folder; give a folder path")
            if path.is_dir() and any(path.iterdir()):
                raise UserError(f"--out {str(path)!r} is not empty; give a new or empty folder "
                                f"(or resume a run with --resume {path})")
        else:
            stamp = _dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
            path = Path(root) / experiment / stamp
            n = 1
            while path.exists():
                n += 1
                path = Path(root) / experiment / f"{stamp}-{n}"
        try:
            path.mkdir(parents=True, exist_ok=True)
            for sub in SUBDIRS:
                (path / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the run folder {str(path)!r}: {exc.strerror}") from None
        run = cls(path)
        run.write_yaml("config.yaml", {"experiment": experiment, **config})
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        """Open an existing run folder; UserError if it is not one."""
        path = Path(path)
        if not (path / "config.yaml").is_file():
            raise UserError(f"{str(path)!r} is not a run folder (no config.yaml in it); "
                            "give a folder made by `mlplab run`")
        return cls(path)

    # ---- reading ----------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return yaml.safe_load((self.path / "config.yaml").read_text()) or {}

    @property
    def experiment(self) -> str:
        return str(self.config.get("experiment", ""))

    def metrics(self) -> dict[str, Any]:
        f = self.path / "metrics.json"
        return json.loads(f.read_text()) if f.is_file() else {}

    def history(self) -> list[dict[str, Any]]:
        """Rows of metrics.jsonl (a torn last line from a kill is skipped)."""
        f = self.path / "metrics.jsonl"
        rows = []
        if f.is_file():
            for line in f.read_text().splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return rows

    def table(self, name: str) -> list[dict[str, str]]:
        """Rows of tables/NAME.csv as text (empty when the run has no such table)."""
        import csv
        f = self.path / "tables" / f"{name}.csv"
        if not f.is_file():
            return []
        with open(f, newline="") as fh:
            return list(csv.DictReader(fh))

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        f = self.path / "arrays" / f"{name}.npz"
        if not f.is_file():
            raise UserError(f"run {str(self.path)!r} has no arrays/{name}.npz")
        with np.load(f, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    # ---- writing ----------------------------------------------------------------------------
    def write_yaml(self, name: str, data: dict[str, Any]) -> None:
        atomic_write_text(self.path / name, yaml.safe_dump(to_jsonable(data), sort_keys=False))

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_text(self.path / name, json.dumps(to_jsonable(data), indent=2) + "\n")

    def save_metrics(self, metrics: dict[str, Any]) -> None:
        """Merge `metrics` into metrics.json (final numbers)."""
        merged = {**self.metrics(), **to_jsonable(metrics)}
        self.write_json("metrics.json", merged)

    def log(self, row: dict[str, Any]) -> None:
        """Append one row (an epoch or a step) to metrics.jsonl."""
        line = json.dumps(to_jsonable(row)) + "\n"
        with open(self.path / "metrics.jsonl", "a") as fh:
            fh.write(line)
            fh.flush()

    def rewrite_history(self, rows: list[dict[str, Any]]) -> None:
        """Replace metrics.jsonl (used on resume, to drop rows after the checkpoint)."""
        atomic_write_text(self.path / "metrics.jsonl", "".join(json.dumps(to_jsonable(r)) + "\n" for r in rows))

    def save_arrays(self, name: str, **arrays: Any) -> Path:
        """Save tensors/arrays as arrays/NAME.npz (the data behind a figure)."""
        clean = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in arrays.items()}
        buf = io.BytesIO()
        np.savez_compressed(buf, **clean)
        target = self.path / "arrays" / f"{name}.npz"
        atomic_write_bytes(target, buf.getvalue())
        return target

    def save_table(self, name: str, rows: list[dict[str, Any]]) -> Path:
        """Save rows as tables/NAME.csv; the report shows every table."""
        import csv
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            for row in rows:
                writer.writerow(to_jsonable(row))
        target = self.path / "tables" / f"{name}.csv"
        atomic_write_text(target, buf.getvalue())
        return target

    def add_note(self, title: str, text: str) -> None:
        """A paragraph for the report (findings the numbers support)."""
        notes_file = self.path / "notes.json"
        notes = json.loads(notes_file.read_text()) if notes_file.is_file() else []
        notes = [n for n in notes if n["title"] != title] + [{"title": title, "text": text}]
        self.write_json("notes.json", notes)

    def write_env(self, device: str, seed: int) -> None:
        import torch
        import torchvision
        self.write_json("env.json", {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "numpy": np.__version__,
            "device": device,
            "cuda_device": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
            "threads": torch.get_num_threads(),
            "seed": seed,
            "git_commit": git_commit(Path(__file__).resolve().parent),
            "command": sys.argv,
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
        })

    def figure(self, name: str) -> Path:
        return self.path / "figures" / f"{name}.png"

    def checkpoint(self, name: str) -> Path:
        return self.path / "checkpoints" / f"{name}.pt"
