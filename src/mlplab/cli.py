"""`mlplab`: list, run, report, tour. Thin: parse, dispatch through the registry, print the run folder."""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

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
    rep = sub.add_parser("report", help="(re)build a run folder's figures and report.html, "
                         "or a folder of runs' gallery (index.html)")
    rep.add_argument("run_dir", metavar="RUN_DIR|RUNS_DIR")
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
    gallery_root = "runs" if args.out is None and args.resume is None else None
    if gallery_root and os.path.isfile(os.path.join(gallery_root, "index.html")):
        _gallery(gallery_root)  # before the run too, so that its page links back to the gallery
    run = execute(args.experiment, args.overrides, out=args.out, resume=args.resume)
    metrics = run.metrics()
    shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    for k, v in list(shown.items())[:8]:
        print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")
    print(f"report: {run.path / 'report.html'}")
    if gallery_root:
        print(f"gallery: {_gallery(gallery_root)}")
    print(run.path)


def _gallery(root: str):
    from mlplab.report.gallery import write_gallery

    return write_gallery(root)


def cmd_report(run_dir: str) -> None:
    from mlplab.report import build_report
    from mlplab.runs import Run

    from mlplab.report.gallery import is_runs_folder, write_gallery

    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir!r} is not a folder; give a run folder made by `mlplab run`")
    if is_runs_folder(Path(run_dir)):
        print(write_gallery(run_dir))
        return
    print(build_report(Run.open(run_dir)))


def cmd_tour(root: str) -> int:
    from mlplab.experiments import EXPERIMENTS, execute

    failed = []
    os.makedirs(root, exist_ok=True)
    _gallery(root)  # first, so that every run page links back to it
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
    print(f"gallery of every run: {_gallery(root).resolve()}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    try:
        args, extra = _parser().parse_known_args(argv)
        if extra and args.command == "run" and not any(e.startswith("-") for e in extra):
            args.overrides += extra  # key=value given after --out / --resume
        elif extra:
            raise UserError(f"unrecognized arguments: {' '.join(extra)}; see `mlplab --help`")
        if args.command == "list":
            cmd_list(args.experiment)
        elif args.command == "run":
            cmd_run(args)
        elif args.command == "report":
            cmd_report(args.run_dir)
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
