"""A 6-trial classify sweep on digits: the six trials one after another vs `mlplab sweep` (local, Ray).

Each contender runs in a fresh Python process, timed from its start to its end (imports, worker start-up,
reports and the summary included), in the same invocation of this script:

    python benchmarks/bench_sweep.py                  # sequential, local --workers 2, ray --workers 2
    python benchmarks/bench_sweep.py --skip-ray       # without Ray
    python benchmarks/bench_sweep.py --grid epochs=5 dropout=0,0.2 seed=0,1,2

The sequential baseline is one process calling `execute` six times with torch's default threads (what
six `mlplab run` commands would do, minus five interpreter start-ups).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
GRID = ["hidden=[1024,1024]", "epochs=20", "dropout=0,0.2", "seed=0,1,2"]

SEQUENTIAL = """
import sys
from mlplab.experiments import execute
from mlplab.sweeps import parse_grid, validate
out, grid = sys.argv[1], sys.argv[2:]
for trial in validate(parse_grid("classify", grid)):
    execute("classify", list(trial.overrides), out=f"{out}/{trial.id}", report=True)
"""


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", nargs="+", default=GRID, help="the sweep's key=v1,v2 items (6 trials by default)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the contenders in turn; report each one's best")
    args = ap.parse_args()
    py = sys.executable
    sweep = [py, "-m", "mlplab", "sweep", "classify", *args.grid, "--workers", str(args.workers)]
    contenders = {
        "sequential, one process": lambda out: [py, "-c", SEQUENTIAL, out, *args.grid],
        f"mlplab sweep --workers {args.workers}": lambda out: [*sweep, "--out", out],
    }
    if not args.skip_ray:
        contenders[f"mlplab sweep --engine ray --workers {args.workers}"] = lambda out: [
            *sweep,
            "--engine",
            "ray",
            "--out",
            out,
        ]
    times: dict[str, list[float]] = {name: [] for name in contenders}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # interleaved, so a change in the machine's load hits every contender
            for i, (name, cmd) in enumerate(contenders.items()):
                times[name].append(timed(cmd(f"{tmp}/{r}-{i}")))
        overhead = {
            name: _overhead(Path(f"{tmp}/{args.rounds - 1}-{i}"), times[name][-1])
            for i, name in enumerate(contenders)
            if i
        }
    rows = [(name, min(t)) for name, t in times.items()]
    base, local = rows[0][1], rows[1][1]
    print(
        f"grid: {' '.join(args.grid)} ({os.cpu_count()} cores; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end; best of {args.rounds})"
    )
    print(f"{'':<40} {'seconds':>8} {'vs sequential':>14}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.1f} {seconds / base:13.0%}")
    print(f"local sweep: {local / base:.0%} of sequential (target <= 60%)")
    for name, (seconds, busiest) in overhead.items():
        print(
            f"{name}: {seconds - busiest:.1f} s outside trials (start-up, scheduling, summary); "
            f"busiest worker {busiest:.1f} s in trials"
        )
    if len(rows) > 2:
        (ray_wall, ray_busy), (local_wall, local_busy) = overhead[rows[2][0]], overhead[rows[1][0]]
        ray_extra = (ray_wall - ray_busy) - (local_wall - local_busy)
        print(
            f"Ray vs local: {rows[2][1] - local:+.1f} s wall ({rows[2][1] / local - 1:+.0%}); "
            f"{ray_extra:+.1f} s more outside trials"
        )


def _overhead(sweep_dir: Path, wall: float) -> tuple[float, float]:
    """(wall, seconds the busiest worker process spent inside trials) of one sweep, from its trials.jsonl."""
    per_worker: dict[str, float] = {}
    for line in (sweep_dir / "trials.jsonl").read_text().splitlines():
        row = json.loads(line)
        key = f"{row.get('node', '')}:{row['pid']}"
        per_worker[key] = per_worker.get(key, 0.0) + row["seconds"]
    return wall, max(per_worker.values())


if __name__ == "__main__":
    main()
