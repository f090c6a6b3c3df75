"""The best recipes of issue 27 over seeds, and their ablations: each recipe is `mlplab run EXP preset=best` (the
whole recipe lands in the run's config.yaml), run once per seed in a fresh process; an ablation row is the same
command with one part of the recipe taken out. Every finished run appends one line to RESULTS.jsonl, so an
interrupted benchmark continues where it stopped (`--results` to keep several).

    python benchmarks/bench_best.py --data $MLPLAB_DATA mnist                 # the MNIST recipe, seeds 0 1 2
    python benchmarks/bench_best.py --data $MLPLAB_DATA mnist --ablate        # ... and each part taken out
    python benchmarks/bench_best.py --data $MLPLAB_DATA gan-2 gan-4 ae fashion
    python benchmarks/bench_best.py --data $MLPLAB_DATA mnist --ablate --also epochs=10   # a cheaper ablation
    python benchmarks/bench_best.py --data $MLPLAB_DATA mnist --ablate --only "no dropout" "no ema"
    python benchmarks/bench_best.py --table                                   # the table of what is done

`--also KEY=VALUE ...` adds keys to every command of the invocation (e.g. a shorter schedule for an ablation);
rows with other `--also` keys are another group in the table.

The test set is read once per run, at its end; the recipes were chosen on the validation split (each recipe's
comment says how). Seconds are the runs' own `train_seconds` (training only) and the process's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
RESULTS = HERE / "results" / "bench_best.jsonl"

# name -> (experiment, fixed keys, {metric: (goal, target)}, budget in seconds of training per seed, ablations)
RECIPES: dict[str, dict] = {
    "mnist": {
        "command": ["classify", "dataset=mnist", "preset=best"],
        "targets": {"test_accuracy": ("max", 0.9930)},
        "budget": 20 * 60,
        "ablate": {
            "no elastic": ["augment=[affine]"],
            "no affine": ["augment=[elastic]"],
            "no augmentation": ["augment=[]"],
            "no dropout": ["dropout=0.0"],
            "no ema": ["ema=0.0"],
        },
    },
    "fashion": {
        "command": ["classify", "dataset=fashion-mnist", "preset=best"],
        "targets": {"test_accuracy": ("max", 0.9180)},
        "budget": 30 * 60,
        "ablate": {
            "no erasing": ["augment=[flip]"],
            "no flip": ["augment=[erase]"],
            "no batch norm": ["norm=none"],
            "no dropout": ["dropout=0.0"],
            "no label smoothing": ["label_smoothing=0.0"],
            "no ema": ["ema=0.0"],
        },
    },
    "ae": {
        "command": ["ae-pca", "dataset=mnist", "preset=best"],
        "targets": {"ae_sse_per_image_k30": ("min", 2.50)},
        "budget": 15 * 60,
        "ablate": {
            "no ema": ["ema=0.0"],
            "mse loss": ["loss=mse"],
            "no weight decay": ["optimizer=adam", "weight_decay=0.0"],
        },
    },
    **{
        f"gan-{d}": {
            "command": ["gan", "dataset=mnist", f"digit={d}", "preset=best"],
            "targets": {"decent_fraction": ("max", 0.97), "recall": ("max", 0.85)},
            "budget": 10 * 60,
            "ablate": {"no g_ema": ["g_ema=0.0"], "narrower (512-256)": ["d_hidden=[512,256]"]},
        }
        for d in (2, 4)
    },
}


def train_seconds(metrics: dict) -> float:
    if "train_seconds" in metrics:
        return float(metrics["train_seconds"])
    return sum(float(v) for k, v in metrics.items() if k.startswith("ae_train_seconds_k"))


def run_one(
    recipe: str,
    variant: str,
    extra: list[str],
    also: list[str],
    seed: int,
    data: str | None,
    out: Path,
    report: bool = True,
) -> dict:
    spec = RECIPES[recipe]
    keys = [*spec["command"], *extra, *also, f"seed={seed}"]
    cmd = [sys.executable, "-m", "mlplab", "run", *keys, "--out", str(out), *([] if report else ["--no-report"])]
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "MPLBACKEND": "Agg"}
    if data:
        env["MLPLAB_DATA"] = data
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "recipe": recipe,
        "variant": variant,
        "extra": extra,
        "also": also,
        "seed": seed,
        "command": "mlplab run " + " ".join(keys),
        **{k: metrics[k] for k in spec["targets"]},
        "train_seconds": train_seconds(metrics),
        "wall_seconds": wall,
        "machine": machine(),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def machine() -> str:
    from common import machine_line  # benchmarks/common.py: CPU model, threads, torch, bf16

    return machine_line()


def load(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def threads_of(machine_line: str) -> str:
    found = re.search(r"\((\d+) threads?", machine_line)
    return found.group(1) if found else "?"


def table(rows: list[dict]) -> str:
    """Per recipe and variant: mean ± std over seeds of each target metric, seconds of training per seed,
    and, for an ablation, whether it differs from the full recipe beyond the seed noise (Welch's t-test)."""
    from scipy import stats

    from mlplab.analysis.spread import spread

    out = []
    groups = dict.fromkeys((r["recipe"], tuple(r.get("also", []))) for r in rows)
    for recipe, spec in RECIPES.items():
        for group_recipe, also in groups:
            if group_recipe != recipe:
                continue
            mine = [r for r in rows if r["recipe"] == recipe and tuple(r.get("also", [])) == also]
            command = " ".join([*spec["command"], *also])
            out.append(f"\n{recipe}: mlplab run {command} seed=S   ({mine[-1]['machine']})")
            variants = list(dict.fromkeys(r["variant"] for r in mine))
            full = {k: [r[k] for r in mine if r["variant"] == "recipe"] for k in spec["targets"]}
            for variant in variants:
                rs = [r for r in mine if r["variant"] == variant]
                cells = []
                for key, (goal, target) in spec["targets"].items():
                    vals = [r[key] for r in rs]
                    sp = spread(vals)
                    cell = f"{key} {sp.mean:.4f} ± {sp.std:.4f}"
                    if variant == "recipe":
                        if not also:  # a shortened recipe has no target to meet
                            met = sp.mean >= target if goal == "max" else sp.mean <= target
                            verdict = "met" if met else "NOT met"
                            cell += f" (target {'≥' if goal == 'max' else '≤'} {target}: {verdict})"
                    elif len(vals) > 1 and len(full[key]) > 1:
                        p = stats.ttest_ind(vals, full[key], equal_var=False).pvalue
                        cell += f" (vs recipe: p = {p:.3g}{', beyond the seed noise' if p < 0.05 else ''})"
                    cells.append(cell)
                secs = [r["train_seconds"] for r in rs]
                seeds = ",".join(str(r["seed"]) for r in rs)
                threads = [threads_of(r["machine"]) for r in rs]
                timing = f"{sum(secs) / len(secs):.0f} s of training per seed"
                if len(set(threads)) > 1:  # runs on different thread counts: each seed's own time
                    timing = "training " + ", ".join(
                        f"{s:.0f} s ({t} thread{'s' if t != '1' else ''})" for s, t in zip(secs, threads, strict=True)
                    )
                out.append(f"  {variant:<20} seeds {seeds:<8} {'; '.join(cells)}; {timing} (budget {spec['budget']} s)")
    return "\n".join(out).lstrip("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipes", nargs="*", help=f"which recipes: {', '.join(RECIPES)}")
    ap.add_argument("--data", help="folder with MNIST/raw (default $MLPLAB_DATA)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--ablate", action="store_true", help="also each ablation row, over the same seeds")
    ap.add_argument("--only", nargs="+", metavar="ROW", help="with --ablate: just these ablation rows (and the recipe)")
    ap.add_argument("--also", nargs="*", default=[], help="KEY=VALUE added to every command (another group)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--runs", type=Path, default=Path("runs") / "bench_best", help="where the run folders go")
    ap.add_argument("--no-report", action="store_true", help="runs without their HTML report (figures)")
    ap.add_argument("--table", action="store_true", help="print the table of the results so far and stop")
    args = ap.parse_args()
    unknown = [r for r in args.recipes if r not in RECIPES]
    if unknown:
        ap.error(f"unknown recipe {unknown[0]!r}; choose from {', '.join(RECIPES)}")
    if args.only and not args.ablate:
        ap.error("--only picks ablation rows: give it with --ablate")
    rows = {row for recipe in args.recipes for row in RECIPES[recipe]["ablate"]}
    missing = sorted(set(args.only or []) - rows)
    if missing:
        ap.error(f"--only: no ablation row {missing[0]!r} in {', '.join(args.recipes)}; choose from {sorted(rows)}")
    if not args.table:
        for recipe in args.recipes:
            ablate = RECIPES[recipe]["ablate"] if args.ablate else {}
            variants = {"recipe": []} | {k: v for k, v in ablate.items() if args.only is None or k in args.only}
            for variant, extra in variants.items():
                for seed in args.seeds:
                    done = load(args.results)
                    if any(
                        (r["recipe"], r["variant"], r["seed"], r.get("also", [])) == (recipe, variant, seed, args.also)
                        for r in done
                    ):
                        continue
                    group = "-".join(a.replace("=", "") for a in args.also) or "full"
                    folder = args.runs / recipe / group / variant.replace(" ", "-") / f"seed{seed}"
                    if folder.exists():
                        raise SystemExit(f"{folder} exists from an unfinished run; remove it to run it again")
                    row = run_one(recipe, variant, extra, args.also, seed, args.data, folder, not args.no_report)
                    args.results.parent.mkdir(parents=True, exist_ok=True)
                    with args.results.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    text = table(load(args.results))
    notes = args.results.with_name(args.results.stem + "_notes.txt")  # what the rows cannot say, kept beside them
    if notes.is_file():
        text += "\n\n" + notes.read_text().strip()
    print(text)
    if not args.table:
        args.results.with_suffix(".txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
