"""`mlplab`: list, run, report, tour. Thin: parse, dispatch through the registry, print the run folder."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from mlplab.errors import RunFailed, UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        raise UserError(f"{message}; see `mlplab --help`")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mlplab", description="Reproducible experiments with MLPs and their relatives.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ls = sub.add_parser("list", help="experiments and datasets; with a name, that experiment's keys")
    ls.add_argument("experiment", nargs="?")
    r = sub.add_parser("run", help="run an experiment: mlplab run NAME key=value ...")
    r.add_argument("experiment")
    r.add_argument("overrides", nargs="*", metavar="key=value")
    r.add_argument("--out", help="run folder to create (default runs/NAME/TIMESTAMP)")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run from its last checkpoint")
    rep = sub.add_parser("report", help="(re)build the figures and report.html of a run folder")
    rep.add_argument("run_dir")
    sw = sub.add_parser("sweep", help="a grid of settings x seeds: mlplab sweep NAME key=v1,v2 seed=0,1,2")
    sw.add_argument("experiment")
    sw.add_argument("axes", nargs="*", metavar="key=v1,v2",
                    help="values split at commas outside brackets: hidden=[256,128],[1024,1024]")
    sw.add_argument("--engine", default="local", help="local (a process pool, default) or ray")
    sw.add_argument("--address", help="HOST:PORT of a running Ray cluster (`ray start --head`); default: a local one")
    sw.add_argument("--workers", type=int,
                    help="trials at once (default: the number of cores; with --engine ray: the local instance's CPUs)")
    sw.add_argument("--out", help="sweep folder (default sweeps/NAME-GRIDHASH; the same command resumes it)")
    t = sub.add_parser("tour", help="run every experiment with its defaults on the embedded datasets")
    t.add_argument("--root", default="runs", help="folder for the tour's runs")
    return p


def cmd_list(name: str | None) -> None:
    from mlplab.config import config_help
    from mlplab.data import DATASETS
    from mlplab.experiments import EXPERIMENTS

    if name:
        exp = EXPERIMENTS.get(name)
        print(f"{exp.name}: {exp.description}\n")
        for key, kind, default, text in config_help(exp.config):
            print(f"  {key:<16} {str(default):<22} {kind}. {text}")
        return
    print("experiments:")
    for n in EXPERIMENTS.names():
        print(f"  {n:<18} {EXPERIMENTS.get(n).description}")
    print("\ndatasets: " + ", ".join(DATASETS.names()))
    print("\n`mlplab list NAME` shows an experiment's keys; `mlplab run NAME key=value ...` runs it.")


def cmd_run(args) -> None:
    from mlplab.experiments import execute

    if args.out and os.path.isfile(args.out):
        raise UserError(f"--out {args.out!r} is a file, not a folder; give a folder path")
    run = execute(args.experiment, args.overrides, out=args.out, resume=args.resume)
    metrics = run.metrics()
    shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    for k, v in list(shown.items())[:8]:
        print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")
    print(f"report: {run.path / 'report.html'}")
    print(run.path)


def cmd_report(run_dir: str) -> None:
    from mlplab.report import build_report
    from mlplab.runs import Run

    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir!r} is not a folder; give a run folder made by `mlplab run`")
    print(build_report(Run.open(run_dir)))


def cmd_sweep(args) -> int:
    import shlex

    from mlplab.sweep import sweep

    command = shlex.join(["mlplab", "sweep", args.experiment, *args.axes]
                         + [f"--{k}={v}" for k in ("engine", "address", "workers", "out")
                            if (v := getattr(args, k)) is not None and (k, v) != ("engine", "local")])
    try:
        result = sweep(args.experiment, args.axes, engine=args.engine, address=args.address, workers=args.workers,
                       out=args.out, command=command)
    except KeyboardInterrupt:
        print("mlplab: sweep interrupted; run the same command again to resume it", file=sys.stderr)
        return 130
    main = result.summary["main_metric"]
    for entry in result.summary["points"][:5]:
        point = " ".join(f"{k}={v}" for k, v in entry["point"].items()) or "(one point)"
        value = entry["metrics"][main["name"]] if main else None
        shown = (f"{main['name']} {value['mean']:.4g} ± {value['std']:.2g} (n={value['n']})" if value
                 else f"n={entry['n']}")
        print(f"{entry['rank']}. {point}: {shown}")
    print(f"summary: {result.path / 'summary.html'}")
    print(result.path)
    if result.failed:
        print(f"mlplab: {result.failed} of {result.summary['trials']} trials failed; see the summary", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_tour(root: str) -> int:
    from mlplab.experiments import EXPERIMENTS, execute

    failed = []
    for name in EXPERIMENTS.names():
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            run = execute(name, [], root=root)
            print(f"{name}: {run.path / 'report.html'}")
        except (UserError, RunFailed) as exc:
            failed.append(name)
            print(f"{name}: failed: {exc}", file=sys.stderr)
    if failed:
        print(f"tour: {len(failed)} of {len(EXPERIMENTS.names())} experiments failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    try:
        args, extra = _parser().parse_known_args(argv)
        if extra and args.command in ("run", "sweep") and not any(e.startswith("-") for e in extra):
            (args.overrides if args.command == "run" else args.axes).extend(extra)  # key=value after an option
        elif extra:
            raise UserError(f"unrecognized arguments: {' '.join(extra)}; see `mlplab --help`")
        if args.command == "list":
            cmd_list(args.experiment)
        elif args.command == "run":
            cmd_run(args)
        elif args.command == "report":
            cmd_report(args.run_dir)
        elif args.command == "sweep":
            return cmd_sweep(args)
        elif args.command == "tour":
            return cmd_tour(args.root)
        return 0
    except UserError as exc:
        print(f"mlplab: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except RunFailed as exc:
        print(f"mlplab: run failed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlplab: interrupted; the last checkpoint is kept (resume with --resume RUN_DIR)", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: say so in one line unless debugging
        if os.environ.get("MLPLAB_DEBUG"):
            traceback.print_exc()
        else:
            print(f"mlplab: internal error: {type(exc).__name__}: {exc} (set MLPLAB_DEBUG=1 for the traceback)",
                  file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
