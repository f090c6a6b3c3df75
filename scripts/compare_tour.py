"""Compare the metrics.json of two `mlplab tour` roots, experiment by experiment, timings aside.

    python scripts/compare_tour.py BEFORE_ROOT AFTER_ROOT [--findings]

A root holds EXPERIMENT/STAMP/metrics.json (the newest stamp of each experiment is used). Keys whose name
contains "seconds" are timings and are skipped; paths into a model cache are compared by their last part
(the cache folder differs between the two tours, the entry's hash must not). Prints every difference, every
key only one side has, and a summary line; exits 1 when a shared number differs.

Findings are text that each version of mlplab composes from a run folder, so each side's are written out by
that side's own code first, then compared word for word:

    PYTHONPATH=OLD/src python scripts/compare_tour.py --dump-findings BEFORE_ROOT before.json
    PYTHONPATH=NEW/src python scripts/compare_tour.py --dump-findings AFTER_ROOT after.json
    python scripts/compare_tour.py BEFORE_ROOT AFTER_ROOT --findings before.json after.json
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


def dump_findings(root: Path, out: Path) -> None:
    """{experiment: [[title, text], ...]} of the newest run of each experiment, by the importable mlplab."""
    try:
        from mlplab.report import findings_for
    except ImportError:  # mlplab before report/ was split into page/ and the experiments' modules
        from mlplab.report.findings import findings_for
    from mlplab.runs import Run

    found = {exp: [[f.title, f.text] for f in findings_for(Run.open(run))] for exp, run in newest_runs(root).items()}
    out.write_text(json.dumps(found, indent=1, sort_keys=True))


def compare_findings(exp: str, before: dict, after: dict) -> list[str]:
    old, new = before.get(exp, []), after.get(exp, [])
    if sorted(map(tuple, old)) == sorted(map(tuple, new)):
        return []
    gone = [f for f in old if f not in new]
    came = [f for f in new if f not in old]
    return [f"finding before: {f}" for f in gone] + [f"finding after:  {f}" for f in came]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path, nargs="?")
    p.add_argument(
        "--findings",
        nargs=2,
        type=Path,
        metavar=("BEFORE_JSON", "AFTER_JSON"),
        help="also compare the findings each side's code wrote with --dump-findings",
    )
    p.add_argument("--dump-findings", action="store_true", help="write BEFORE's findings to the file AFTER names")
    args = p.parse_args(argv)
    if args.dump_findings:
        dump_findings(args.before, args.after)
        return 0
    found = [json.loads(f.read_text()) for f in args.findings] if args.findings else None
    before, after = newest_runs(args.before), newest_runs(args.after)
    changed = 0
    for exp in sorted(set(before) | set(after)):
        if exp not in before or exp not in after:
            print(f"{exp}: only in {'before' if exp in before else 'after'}")
            changed += 1
            continue
        diffs, only, shared = compare(before[exp] / "metrics.json", after[exp] / "metrics.json")
        if found:
            diffs += compare_findings(exp, *found)
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
