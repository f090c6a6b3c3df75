"""The run folder: resolved config, metrics, arrays, checkpoints; every write is atomic; one writer at a time.

A file is first written beside its target under a temporary name, flushed to disk, then renamed
over the target, so a crash or a kill leaves either the old file or the new one, never half of one.
A process that writes a run holds its lock file (`.lock`, with the owner's pid and host): a second
process that tries to train or resume the same run is refused while the owner lives.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import tempfile
import weakref
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mlplab.errors import DamagedFile, RunLocked, UserError

try:
    import fcntl
except ImportError:  # not on Windows: there the lock only records its owner
    fcntl = None

log = logging.getLogger("mlplab.runs")
LOCK_FILE = ".lock"
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
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; a file written in place would honour the umask
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (os.umask alone must set it to read it)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


_HELD: dict[Path, list] = {}  # resolved run path -> [open lock file, number of Run objects sharing it]


_WRITTEN: list[Path] = []  # every run folder this process has locked, oldest first (released ones too)


def held_runs() -> list[Path]:
    """The run folders this process holds the lock of (the runs it is writing), oldest first."""
    return list(_HELD)


def written_runs() -> list[Path]:
    """The run folders this process has written (held the lock of), oldest first: what a stopped command reports."""
    return list(_WRITTEN)


def _release(key: Path) -> None:
    entry = _HELD.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] > 0:
        return
    del _HELD[key]
    fh = entry[0]
    with contextlib.suppress(OSError):
        if os.path.samestat(os.fstat(fh.fileno()), os.stat(key / LOCK_FILE)):
            os.unlink(key / LOCK_FILE)  # still ours: remove it, then let go
    fh.close()


def _owner_text(lock: Path) -> str:
    try:
        owner = json.loads(lock.read_text())
        return f"pid {owner['pid']} on {owner['host']}, since {owner['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _acquire(path: Path) -> Any:
    """Open and lock `path/.lock`; RunLocked if a live process holds it. A dead owner's lock is taken over
    (the kernel drops a lock with its process); the file then names the new owner."""
    lock = path / LOCK_FILE
    for _ in range(10):
        fh = open(lock, "a+")
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                raise RunLocked(
                    f"{path} is being written by {_owner_text(lock)}; wait until that run ends "
                    f"(or stop it), then try again"
                ) from None
            try:
                same = os.path.samestat(os.fstat(fh.fileno()), os.stat(lock))
            except FileNotFoundError:
                same = False
            if not same:  # the owner removed the file as we opened it: try the new one
                fh.close()
                continue
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": _dt.datetime.now().isoformat(timespec="seconds"),
                }
            )
            + "\n"
        )
        fh.flush()
        return fh
    raise RunLocked(f"{path} is being locked and unlocked by other processes; try again")


class Run:
    """One run folder. Create with `Run.create`, reopen with `Run.open`; `lock()` before writing a run you opened."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_key: Path | None = None
        self._announced = False

    def lock(self) -> Run:
        """Hold the run's lock while this object lives (or until `release`); RunLocked if a live process has it."""
        if self._lock_key is not None:
            return self
        key = self.path.resolve()
        if key in _HELD:  # this process already writes it (e.g. a run, then its resume): share the lock
            _HELD[key][1] += 1
        else:
            try:
                _HELD[key] = [_acquire(key), 1]
            except OSError as exc:
                raise UserError(f"cannot lock the run folder {str(self.path)!r}: {exc.strerror}") from None
        self._lock_key = key
        if key not in _WRITTEN:
            _WRITTEN.append(key)
        self._finalizer = weakref.finalize(self, _release, key)
        return self

    def release(self) -> None:
        """Let go of the lock now (before moving the folder, for example)."""
        if self._lock_key is not None:
            self._finalizer()
            self._lock_key = None

    def _announce(self) -> None:
        """Say once, when results start to arrive, where they go (the CLI shows it on stderr)."""
        if not self._announced:
            self._announced = True
            log.info("writing run folder %s", self.path)

    # ---- creation and opening -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        experiment: str,
        config: dict[str, Any],
        out: str | os.PathLike | None = None,
        root: str | os.PathLike = "runs",
    ) -> Run:
        """Make a fresh folder (`out`, or runs/EXPERIMENT/TIMESTAMP) and write config.yaml."""
        if out is not None:
            path = Path(out)
            if path.exists() and not path.is_dir():
                raise UserError(f"--out {str(path)!r} is a file, not a folder; give a folder path")
            if path.is_dir() and any(path.iterdir()):
                raise UserError(
                    f"--out {str(path)!r} is not empty; give a new or empty folder "
                    f"(or resume a run with --resume {path})"
                )
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
        run = cls(path).lock()
        run.write_yaml("config.yaml", {"experiment": experiment, **config})
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> Run:
        """Open an existing run folder; UserError if it is not one."""
        path = Path(path)
        if not (path / "config.yaml").is_file():
            raise UserError(
                f"{str(path)!r} is not a run folder (no config.yaml in it); give a folder made by `mlplab run`"
            )
        return cls(path)

    # ---- reading ----------------------------------------------------------------------------
    def _text(self, name: str) -> str | None:
        """The UTF-8 text of a file of the run (None when absent); DamagedFile when it is not text."""
        f = self.path / name
        if not f.is_file():
            return None
        try:
            return f.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DamagedFile(f, f"not UTF-8 text at byte {exc.start}") from None

    def _json(self, name: str, kind: type) -> Any:
        text = self._text(name)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DamagedFile(self.path / name, f"not valid JSON, line {exc.lineno}: {exc.msg}") from None
        if not isinstance(data, kind):
            raise DamagedFile(self.path / name, f"a JSON {type(data).__name__}, expected a {kind.__name__}")
        return data

    @property
    def config(self) -> dict[str, Any]:
        text = self._text("config.yaml") or ""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f", line {where.line + 1}" if where is not None else ""
            raise DamagedFile(self.path / "config.yaml", f"not valid YAML{line}") from None
        if data is not None and not isinstance(data, dict):
            raise DamagedFile(self.path / "config.yaml", f"YAML {type(data).__name__}, expected key: value pairs")
        return data or {}

    @property
    def experiment(self) -> str:
        return str(self.config.get("experiment", ""))

    @property
    def metrics(self) -> dict[str, Any]:
        return self._json("metrics.json", dict) or {}

    @property
    def history(self) -> list[dict[str, Any]]:
        """Rows of metrics.jsonl. A torn last line (a kill while appending) is skipped; a damaged line
        before it, or bytes that are not UTF-8, raise DamagedFile naming the file and the line."""
        lines = (self._text("metrics.jsonl") or "").splitlines()
        rows = []
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if not isinstance(row, dict):
                if number == len(lines) and row is None:
                    break  # the torn tail of a killed append
                raise DamagedFile(self.path / "metrics.jsonl", f"line {number} is not a JSON object")
            rows.append(row)
        return rows

    def load_table(self, name: str) -> list[dict[str, str]]:
        """Rows of tables/NAME.csv as text (empty when the table is absent)."""
        import csv

        f = self.path / "tables" / f"{name}.csv"
        if not f.is_file():
            return []
        with open(f, newline="") as fh:
            return list(csv.DictReader(fh))

    @property
    def status(self) -> dict[str, Any]:
        """status.json: running / finished / failed / interrupted, times, the command that reproduces the run."""
        return self._json("status.json", dict) or {}

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        f = self.path / "arrays" / f"{name}.npz"
        if not f.is_file():
            raise UserError(f"run {str(self.path)!r} has no arrays/{name}.npz")
        try:
            with np.load(f, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
            problem = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise DamagedFile(f, f"not a complete .npz archive: {problem}") from None

    # ---- writing ----------------------------------------------------------------------------
    def write_yaml(self, name: str, data: dict[str, Any]) -> None:
        atomic_write_text(self.path / name, yaml.safe_dump(to_jsonable(data), sort_keys=False))

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_text(self.path / name, json.dumps(to_jsonable(data), indent=2) + "\n")

    def save_metrics(self, metrics: dict[str, Any]) -> None:
        """Merge `metrics` into metrics.json (final numbers)."""
        merged = {**self.metrics, **to_jsonable(metrics)}
        self.write_json("metrics.json", merged)

    def log(self, row: dict[str, Any]) -> None:
        """Append one row (an epoch or a step) to metrics.jsonl."""
        self._announce()
        line = json.dumps(to_jsonable(row)) + "\n"
        with open(self.path / "metrics.jsonl", "a") as fh:
            fh.write(line)
            fh.flush()

    def rewrite_history(self, rows: list[dict[str, Any]]) -> None:
        """Replace metrics.jsonl (used on resume, to drop rows after the checkpoint)."""
        atomic_write_text(self.path / "metrics.jsonl", "".join(json.dumps(to_jsonable(r)) + "\n" for r in rows))

    def save_arrays(self, name: str, **arrays: Any) -> Path:
        """Save tensors/arrays as arrays/NAME.npz (the data behind a figure)."""
        self._announce()
        clean = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in arrays.items()}
        buf = io.BytesIO()
        np.savez_compressed(buf, **clean)
        target = self.path / "arrays" / f"{name}.npz"
        atomic_write_bytes(target, buf.getvalue())
        return target

    def save_table(self, name: str, rows: list[dict[str, Any]]) -> Path:
        """Save rows as tables/NAME.csv; the report shows every table."""
        import csv

        self._announce()
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            for row in rows:
                writer.writerow(to_jsonable(row))
        target = self.path / "tables" / f"{name}.csv"
        atomic_write_text(target, buf.getvalue())
        return target

    def write_env(self, device: str, seed: int) -> None:
        import torch
        import torchvision

        from mlplab.device import cpu_bf16_flags, cpu_model

        self.write_json(
            "env.json",
            {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "torch": torch.__version__,
                "torchvision": torchvision.__version__,
                "numpy": np.__version__,
                "device": device,
                "cuda_device": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
                "cpu": cpu_model(),
                "cpu_bf16": cpu_bf16_flags(),
                "threads": torch.get_num_threads(),
                "seed": seed,
                "git_commit": git_commit(Path(__file__).resolve().parent),
                "command": sys.argv,
                "started": _dt.datetime.now().isoformat(timespec="seconds"),
            },
        )

    def figure(self, name: str) -> Path:
        return self.path / "figures" / f"{name}.png"

    def checkpoint(self, name: str) -> Path:
        return self.path / "checkpoints" / f"{name}.pt"
