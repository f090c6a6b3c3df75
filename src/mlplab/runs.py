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
import shlex
import shutil
import socket
import subprocess
import sys
import uuid
import weakref
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import safe_yaml
from mlplab.errors import DamagedFile, RunLocked, UserError
from mlplab.paths import user_path

try:
    import fcntl
except ImportError:  # not on Windows: there the lock only records its owner
    fcntl = None

log = logging.getLogger("mlplab.runs")
LOCK_FILE = ".lock"
SUBDIRS = ("checkpoints", "figures", "arrays", "animations", "tables")
# Written once when mlplab makes a run folder: {"run_id", "created"}. It marks the folder as mlplab's (so that
# `mlplab report` may replace what is in it) and names the run its checkpoints belong to.
MARKER = ".mlplab-run"
# Folders made by mlplab before the marker existed are recognised by the files only mlplab wrote there: an env.json
# with every one of these keys (written since the first version), or a status.json with a known status and the
# `mlplab run ...` command that reproduces the run.
LEGACY_ENV_KEYS = ("python", "torch", "numpy", "seed", "git_commit", "command", "started")
STATUSES = ("running", "finished", "failed", "interrupted")
# Keys a resume may change (experiments.base.resumed_config says which, when): they cannot alter the trajectory
# already run, so the config identity a checkpoint carries leaves them out.
RESUMABLE_KEYS = ("epochs", "device", "tensorboard", "data_dir")
AFTER_TRAINING_KEYS = ("layers", "knn_k")  # read only by the analysis after training (see resumed_config)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The name is chosen before the file exists and made inside the try: a Ctrl-C or SIGTERM raised as the file is
    # created (the handler runs as soon as the open() system call returns, which mkstemp's return would miss)
    # still finds the name in the finally, so no `.NAME.*.tmp` is left behind.
    tmp_path = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
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


@contextlib.contextmanager
def folder_lock(path: Path, command: str):
    """One `mlplab COMMAND` process at a time on the folder `path` (a sweep, a study); the OS releases the lock
    when the process dies, so a killed process never leaves the folder locked."""
    if fcntl is None:  # not POSIX: no lock
        yield
        return
    with open(path / ".lock", "w") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another `mlplab {command}` is running on {str(path)!r}; wait for it or stop it") from None
        yield


def make_folder(path: Path, what: str) -> None:
    """Create the `what` folder (a sweep, a study) that --out names: refused when it already holds anything (the
    caller has found none of its own files there) or cannot be made."""
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"--out {str(path)!r} is not empty and is not a {what} folder; give a new or empty folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the {what} folder {str(path)!r}: {exc.strerror}") from None


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


_TOO_DEEP = object()
MAX_DEPTH = 16  # nesting of lists and dicts in a run's JSON files: mlplab writes 3 levels at most


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """How deep lists and dicts nest in `value` (counting stops past `limit`), without recursion."""
    deepest, level, todo = 0, 0, [(value, 0)]
    while todo:
        value, level = todo.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        if isinstance(value, dict):
            todo += [(v, level + 1) for v in value.values()]
        elif isinstance(value, list):
            todo += [(v, level + 1) for v in value]
    return deepest


def read_csv(path: str | os.PathLike) -> list[list[str]]:
    """The rows of a CSV file of a run as text; DamagedFile when it is not UTF-8 or not CSV (e.g. a field
    longer than the csv module reads)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise DamagedFile(Path(path), f"not UTF-8 text at byte {exc.start}") from None
    except csv.Error as exc:
        raise DamagedFile(Path(path), f"not CSV as mlplab writes it: {exc}") from None


def _legacy_env(env: Any) -> bool:
    return isinstance(env, dict) and all(k in env for k in LEGACY_ENV_KEYS)


def _legacy_status(status: Any) -> bool:
    if not isinstance(status, dict):
        return False
    command = status.get("command")
    return status.get("status") in STATUSES and isinstance(command, str) and command.startswith("mlplab run ")


class Run:
    """One run folder. Create with `Run.create`, reopen with `Run.open`; `lock()` before writing a run you opened."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_key: Path | None = None
        self._announced = False
        self.made: list[Path] | None = None  # the folders `create` made (None: an existing run)

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
                    f"(or resume a run with --resume {shlex.quote(str(path))})"
                )
        else:
            stamp = _dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
            path = Path(root) / experiment / stamp
            n = 1
            while path.exists():
                n += 1
                path = Path(root) / experiment / f"{stamp}-{n}"
        made = [p for p in (path, *path.parents) if not p.exists()]  # what `discard` may remove, deepest first
        try:
            path.mkdir(parents=True, exist_ok=True)
            for sub in SUBDIRS:
                (path / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the run folder {str(path)!r}: {exc.strerror}") from None
        run = cls(path).lock()
        run.made = made
        marker = {"run_id": uuid.uuid4().hex, "created": _dt.datetime.now().isoformat(timespec="seconds")}
        atomic_write_text(path / MARKER, json.dumps(marker) + "\n")
        run.write_yaml("config.yaml", {"experiment": experiment, **config})
        return run

    def discard(self) -> None:
        """Remove what `create` made and nothing else: the folder with what is in it, and the parents it made;
        a folder that was there before (empty: `create` refuses any other) is kept, emptied again."""
        made = self.made
        if made is None:
            return
        if self.path in made:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            for child in self.path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                elif child.name != LOCK_FILE:  # the lock goes when it is released
                    child.unlink(missing_ok=True)
        for parent in made[1:]:
            try:
                parent.rmdir()  # only if empty: another run may have started in it meanwhile
            except OSError:
                break

    @classmethod
    def open(cls, path: str | os.PathLike) -> Run:
        """Open an existing run folder; UserError if it is not one."""
        path = Path(user_path("the run folder", path))
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
        except RecursionError:
            data = _TOO_DEEP
        if data is _TOO_DEEP or _depth(data) > MAX_DEPTH:
            raise DamagedFile(self.path / name, f"JSON nested deeper than the {MAX_DEPTH} levels mlplab writes")
        if not isinstance(data, kind):
            raise DamagedFile(self.path / name, f"a JSON {type(data).__name__}, expected a {kind.__name__}")
        return data

    @property
    def config(self) -> dict[str, Any]:
        text = self._text("config.yaml") or ""
        try:
            data = safe_yaml.load(text)
        except safe_yaml.YAMLRefused as exc:
            line = f", line {exc.line}" if exc.line is not None else ""
            problem = "not valid YAML" if exc.problem.startswith("not valid YAML") else exc.problem
            raise DamagedFile(self.path / "config.yaml", f"{problem}{line}") from None
        if data is not None and not isinstance(data, dict):
            raise DamagedFile(self.path / "config.yaml", f"YAML {type(data).__name__}, expected key: value pairs")
        return data or {}

    @property
    def experiment(self) -> str:
        return str(self.config.get("experiment", ""))

    @property
    def run_id(self) -> str | None:
        """The id written into the marker when mlplab made the folder (None: no marker, an older run)."""
        try:
            marker = json.loads((self.path / MARKER).read_text())
        except (OSError, ValueError):
            return None
        run_id = marker.get("run_id") if isinstance(marker, dict) else None
        return run_id if isinstance(run_id, str) else None

    def is_mlplab(self) -> bool:
        """Whether mlplab made this folder: its marker, or (older runs) an env.json or status.json only mlplab
        writes. Damaged or foreign files say no; nothing here raises."""
        if self.run_id is not None:
            return True
        for name, made_by_mlplab in (("env.json", _legacy_env), ("status.json", _legacy_status)):
            try:
                if made_by_mlplab(self._json(name, dict)):
                    return True
            except (UserError, OSError, RecursionError):
                continue
        return False

    def require_mlplab(self) -> None:
        """UserError naming the report (or the folder) unless mlplab made this folder: nothing in it is replaced."""
        if not self.is_mlplab():
            page = self.path / "report.html"
            raise UserError(
                f"{str(page if page.exists() else self.path)!r} is not in a run folder made by mlplab (no "
                f"{MARKER}, env.json or status.json of an mlplab run beside config.yaml), so `mlplab report` "
                "replaces nothing there; give a folder made by `mlplab run`"
            )

    def fixed_config(self) -> dict[str, Any]:
        """The resolved config without the keys a resume may change: what a checkpoint of the run must match."""
        return {k: v for k, v in to_jsonable(self.config).items() if k not in RESUMABLE_KEYS + AFTER_TRAINING_KEYS}

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
        """Rows of tables/NAME.csv as text (empty when the table is absent); DamagedFile when a row has
        more or fewer fields than the header, or the file is no CSV."""
        f = self.path / "tables" / f"{name}.csv"
        if not f.is_file():
            return []
        rows = [row for row in read_csv(f) if row]  # blank lines are no rows (as csv.DictReader reads them)
        if not rows:
            return []
        head = rows[0]
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != len(head):
                raise DamagedFile(f, f"line {number} has {len(row)} fields, the header {len(head)}")
        return [dict(zip(head, row, strict=True)) for row in rows[1:]]

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
        atomic_write_text(self.path / name, safe_yaml.dump(to_jsonable(data)))

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
        from importlib.metadata import version

        import torch

        from mlplab.device import cpu_bf16_flags, cpu_model

        self.write_json(
            "env.json",
            {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "torch": torch.__version__,
                "torchvision": version("torchvision"),  # read, not imported: importing it takes seconds
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
