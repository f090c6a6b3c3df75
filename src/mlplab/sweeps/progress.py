"""One line per finished trial with the count left and an estimate of the time left; a bar on a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO, Any


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts trials finished in this invocation; the ETA is their mean pace times the number left."""

    def __init__(self, total: int, already: int, main: str | None = None, stream: IO[str] | None = None):
        self.total, self.done, self.main = total, already, main
        self.stream = stream or sys.stderr
        self.started, self.finished_here = time.perf_counter(), 0
        self.bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=already, file=self.stream, unit="trial", leave=False)

    def update(self, record: dict[str, Any], metrics: dict[str, float]) -> str:
        self.done += 1
        self.finished_here += 1
        left = self.total - self.done
        pace = (time.perf_counter() - self.started) / self.finished_here
        eta = f"ETA {_clock(pace * left)}" if left else "done"
        what = record["status"]
        if record["status"] == "ok" and self.main in metrics:
            what += f" {self.main} {metrics[self.main]:.4g}"
        elif record.get("error"):
            what += f": {record['error']}"
        line = (
            f"[{self.done}/{self.total}] trial {record['id']} {' '.join(record['overrides'])}: {what} "
            f"({record.get('seconds') or 0:.1f}s) | {left} left, {eta}"
        )
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(line, file=self.stream, flush=True)
        return line

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
