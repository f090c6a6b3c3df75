"""Compare the metrics.json of two `mlplab tour` roots, experiment by experiment, timings aside.

    python scripts/compare_tour.py BEFORE_ROOT AFTER_ROOT [--findings]

A root holds EXPERIMENT/STAMP/metrics.json (the newest stamp of each experiment is used). Keys whose name
contains "seconds" are timings and are skipped; paths into a model cache are compared by their last part
(the cache folder differs between the two tours, the entry's hash must not). Prints every difference, every
key only one side has, and a summary line; exits 1 when a shared number differs. With --findings it also
compares the older root's notes.json with the newer run's findings (report.findings.findings_for).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

TIMING = ("seconds",)


def newest_runs(root: Path) -> dict[str, Path]:
    runs = {}
    for exp in sorted(p for p in root.iterdir() if p.is_dir()):
        stamps = sorted(p for p in exp.iterdir() if (p / "metrics.json").is_file())
        if stamps:
            runs[exp.name] = stamps[-1]
    return runs


def flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def comparable(key: str, value):
    if isinstance(value, str) and key.endswith("_path"):
        return Path(value).name
    return value


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare(before: Path, after: Path) -> tuple[list[str], list[str], int]:
    """(differences, one-sided keys, number of shared keys) of two metrics.json files."""
    a = {k: v for k, v in flatten(json.loads(before.read_text())).items() if not any(t in k for t in TIMING)}
    b = {k: v for k, v in flatten(json.loads(after.read_text())).items() if not any(t in k for t in TIMING)}
    diffs = [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if k in b and not same(comparable(k, a[k]), comparable(k, b[k]))]
    only = [f"only before: {k}" for k in a if k not in b] + [
        f"only after: {k} = {b[k]!r}"[:200] for k in b if k not in a
    ]
    return diffs, only, len(set(a) & set(b))


def compare_findings(before_run: Path, after_run: Path) -> list[str]:
    from mlplab.report import findings_for
    from mlplab.runs import Run

    notes = before_run / "notes.json"
    old = [(n["title"], n["text"]) for n in json.loads(notes.read_text())] if notes.is_file() else []
    new = [(f.title, f.text) for f in findings_for(Run.open(after_run))]
    if sorted(old) == sorted(new):
        return []
    return [f"findings differ:\n  before {old}\n  after  {new}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--findings", action="store_true", help="also compare notes.json (before) with findings (after)")
    args = p.parse_args(argv)
    before, after = newest_runs(args.before), newest_runs(args.after)
    changed = 0
    for exp in sorted(set(before) | set(after)):
        if exp not in before or exp not in after:
            print(f"{exp}: only in {'before' if exp in before else 'after'}")
            changed += 1
            continue
        diffs, only, shared = compare(before[exp] / "metrics.json", after[exp] / "metrics.json")
        if args.findings:
            diffs += compare_findings(before[exp], after[exp])
        changed += bool(diffs)
        print(
            f"{exp}: {shared} numbers compared, {len(diffs)} differ"
            + (f", {len(only)} keys on one side" if only else "")
        )
        for line in diffs + only:
            print(f"  {line}")
    print(f"{len(set(before) | set(after))} experiments, {changed} with differences")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
