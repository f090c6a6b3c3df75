"""`mlplab`: list, run, report, tour. Thin: parse, dispatch through the registry, print the run folder."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import shlex
import sys
import traceback
from pathlib import Path

from mlplab.errors import RunFailed, UserError
from mlplab.signals import Terminated, exit_code, sigterm_as_interrupt


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
    r.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip the figures and report.html (`mlplab report RUN_DIR` builds them later)",
    )
    rep = sub.add_parser(
        "report", help="(re)build a run folder's figures and report.html, or a folder of runs' gallery (index.html)"
    )
    rep.add_argument("run_dir", metavar="RUN_DIR|RUNS_DIR")
    sw = sub.add_parser("sweep", help="a grid of settings x seeds: mlplab sweep NAME key=v1,v2 seed=0,1,2")
    sw.add_argument("experiment")
    sw.add_argument(
        "axes",
        nargs="*",
        metavar="key=v1,v2",
        help="values split at commas outside brackets: hidden=[256,128],[1024,1024]",
    )
    sw.add_argument("--engine", default="local", help="local (a process pool, default) or ray")
    sw.add_argument("--address", help="HOST:PORT of a running Ray cluster (`ray start --head`); default: a local one")
    sw.add_argument(
        "--workers",
        type=int,
        help="trials at once (default: the number of cores; with --engine ray: the local instance's CPUs)",
    )
    sw.add_argument("--out", help="sweep folder (default sweeps/NAME-GRIDHASH; the same command resumes it)")
    sw.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="the trials skip their figures and report.html (the sweep's summary is made either way)",
    )
    _tune_parser(sub)
    d = sub.add_parser("data", help="look at a dataset: mlplab data inspect SOURCE [key=value ...]")
    ins = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser).add_parser(
        "inspect", help="class names and counts per split, shape, pixel range, duplicates, files skipped"
    )
    ins.add_argument("source", help="folder:PATH, csv:PATH, npz:PATH, hf:PATH or a dataset name")
    ins.add_argument("options", nargs="*", metavar="key=value", help="seed, test_size, image_size, skip_bad")
    t = sub.add_parser("tour", help="run every experiment with its defaults on the embedded datasets")
    t.add_argument("--root", default="runs", help="folder for the tour's runs")
    return p


def _tune_parser(sub) -> None:
    tu = sub.add_parser(
        "tune", help="search a space with pruning, then confirm the best against the defaults on fresh seeds"
    )
    tu.add_argument("experiment")
    tu.add_argument(
        "items",
        nargs="*",
        metavar="key=SPACE",
        help="lr=loguniform(1e-4,1e-2) dropout=uniform(0,0.5) epochs=int(5,40) hidden=choice([256],[512,256]); "
        "key=value fixes a key",
    )
    tu.add_argument("--trials", type=int, default=20, help="trials the study holds when done (default 20)")
    tu.add_argument("--metric", default="val_accuracy", help="validation metric to optimise (default val_accuracy)")
    tu.add_argument("--pruner", default="median", help="median (default), hyperband or none")
    tu.add_argument(
        "--confirm-seeds", type=int, default=3, help="fresh seeds for best vs defaults (default 3; 0: none)"
    )
    tu.add_argument("--engine", default="local", help="local (default) or ray")
    tu.add_argument("--address", help="HOST:PORT of a running Ray cluster; default: a local one")
    tu.add_argument("--workers", type=int, help="trials at once (default 1)")
    tu.add_argument("--storage", help="study database URL, e.g. postgresql://USER@HOST/DB (default: SQLite in --out)")
    tu.add_argument("--out", help="study folder (default studies/NAME-HASH; the same command resumes it)")


def cmd_tune(args) -> int:
    import shlex

    from mlplab.tune.runner import tune

    options = ("trials", "metric", "pruner", "confirm_seeds", "engine", "address", "workers", "storage", "out")
    command = shlex.join(
        ["mlplab", "tune", args.experiment, *args.items]
        + [f"--{k.replace('_', '-')}={v}" for k in options if (v := getattr(args, k)) is not None]
    )
    try:
        done = tune(args.experiment, args.items, command=command, **{k: getattr(args, k) for k in options})
    except KeyboardInterrupt:
        print("mlplab: tuning interrupted; run the same command again to resume the study", file=sys.stderr)
        return 130
    result = done.result
    best, conf = result["best"], result["confirmation"]
    counts = ", ".join(f"{v} {k}" for k, v in result["counts"].items() if v)
    print(f"trials: {counts}")
    if best:
        print(f"best (trial {best['trial']}): {result['metric']} {best['value']:.4g}  {best['command']}")
    if conf:
        for arm, a in conf["arms"].items():
            interval = f"95% CI {a['ci_low']:.4g}–{a['ci_high']:.4g}, n={a['n']}"
            print(f"{arm}: {conf['metric']} {a['mean']:.4g} ± {a['std']:.2g} ({interval})")
        print(f"verdict: {conf['verdict']}")
    print(f"page: {done.path / 'study.html'}")
    print(done.path)
    return 0


def cmd_list(name: str | None) -> None:
    from mlplab import api
    from mlplab.data import DATASETS
    from mlplab.data.sources import SOURCES

    if name:
        cfg = api.config_of(name)
        print(f"{name}: {api.list_experiments()[name]}\n")
        print(cfg.help())
        return
    print("experiments:")
    for n, description in api.list_experiments().items():
        print(f"  {n:<18} {description}")
    print("\ndatasets: " + ", ".join(DATASETS.names()))
    print("your own data (dataset=KIND:PATH; `mlplab data inspect KIND:PATH` shows what mlplab sees):")
    for kind, source in SOURCES.items():
        print(f"  {kind + ':PATH':<12} {source.description}; e.g. {source.example}")
    print("\n`mlplab list NAME` shows an experiment's keys; `mlplab run NAME key=value ...` runs it.")


def cmd_run(args) -> None:
    from mlplab import api

    gallery_root = "runs" if args.out is None and args.resume is None else None
    if gallery_root and os.path.isfile(os.path.join(gallery_root, "index.html")):
        # before the run too, so that its page links back to the gallery; a failure here is said once, by the
        # refresh after the run (or, where the folder cannot be written at all, by the run's own one line)
        with contextlib.suppress(Exception):
            _gallery(gallery_root)
    run = api.run(args.experiment, *args.overrides, out=args.out, resume=args.resume, report=args.report)
    for k, v in run.main_numbers().items():
        print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")
    if args.report:
        print(f"report: {run.report}")
    else:
        print(f"report: not built (--no-report); `mlplab report {shlex.quote(str(run.path))}` builds it")
    if gallery_root and (gallery := _gallery(gallery_root, quiet=True)):
        print(f"gallery: {gallery}")
    print(run.path)


def _gallery(root: str, quiet: bool = False):
    """Rewrite ROOT/index.html; with `quiet`, a gallery that cannot be written is a warning (the run goes on)."""
    from mlplab.report.page.gallery import write_gallery

    if not quiet:
        return write_gallery(root)
    try:
        return write_gallery(root)
    except Exception as exc:  # the gallery is a view of other runs: it never stops this one
        logging.getLogger("mlplab").warning(
            "the gallery %s was not refreshed: %s", root, (str(exc).splitlines() or [type(exc).__name__])[0]
        )
        return None


def cmd_report(run_dir: str) -> None:
    from mlplab.report import build_report
    from mlplab.report.page.gallery import is_runs_folder, write_gallery
    from mlplab.runs import Run

    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir!r} is not a folder; give a run folder made by `mlplab run`")
    if is_runs_folder(Path(run_dir)):
        print(write_gallery(run_dir))
        return
    print(build_report(Run.open(run_dir)))


def cmd_sweep(args) -> int:
    from mlplab.paths import user_path
    from mlplab.sweeps import sweep

    if args.out is not None:
        user_path("--out", args.out)
    command = shlex.join(
        ["mlplab", "sweep", args.experiment, *args.axes]
        + [
            f"--{k}={v}"
            for k in ("engine", "address", "workers", "out")
            if (v := getattr(args, k)) is not None and (k, v) != ("engine", "local")
        ]
        + ([] if args.report else ["--no-report"])
    )
    try:
        result = sweep(
            args.experiment,
            args.axes,
            engine=args.engine,
            address=args.address,
            workers=args.workers,
            out=args.out,
            command=command,
            report=args.report,
        )
    except KeyboardInterrupt as exc:
        print(f"mlplab: sweep {_what(exc)}; finished trials are kept: resume with `{command}`", file=sys.stderr)
        return exit_code(exc)
    main = result.summary["main_metric"]
    for entry in result.summary["points"][:5]:
        point = " ".join(f"{k}={v}" for k, v in entry["point"].items()) or "(one point)"
        value = entry["metrics"][main["name"]] if main else None
        shown = (
            f"{main['name']} {value['mean']:.4g} ± {value['std']:.2g} (n={value['n']})" if value else f"n={entry['n']}"
        )
        print(f"{entry['rank']}. {point}: {shown}")
    print(f"summary: {result.path / 'summary.html'}")
    print(result.path)
    if result.failed:
        print(f"mlplab: {result.failed} of {result.summary['trials']} trials failed; see the summary", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_tour(root: str) -> int:
    from mlplab.experiments import EXPERIMENTS, execute
    from mlplab.paths import user_path

    failed = []
    try:
        os.makedirs(user_path("--root", root), exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the folder --root {root!r}: {exc.strerror}") from None
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
        print(
            f"tour: {len(failed)} of {len(EXPERIMENTS.names())} experiments failed: {', '.join(failed)}",
            file=sys.stderr,
        )
    print(f"gallery of every run: {_gallery(root).resolve()}")
    return 1 if failed else 0


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "mlplab: warning: " if record.levelno >= logging.WARNING else "mlplab: "
        return prefix + record.getMessage()


def _run_state(before: set[Path]) -> tuple[Path | None, str, bool]:
    """The run this command was writing (or None), its experiment and whether it has a checkpoint to resume."""
    from mlplab.runs import Run, held_runs, written_runs

    # the outermost run still being written (a tour's current one), else the command's first run: a model
    # cache entry trained inside a run is written later and is never the one to resume
    mine = [p for p in held_runs() if p not in before] or [p for p in written_runs() if p not in before]
    if not mine:
        return None, "", False
    run = Run(mine[0])
    try:
        experiment = run.experiment or "EXPERIMENT"
    except UserError:
        experiment = "EXPERIMENT"
    from mlplab.experiments.base import has_checkpoints

    return run.path, experiment, has_checkpoints(run.path)


def _stopped(what: str, before: set[Path]) -> str:
    """What the user has after a run stopped by `what` (Ctrl-C, a full disk) and how to go on."""
    path, experiment, resumable = _run_state(before)
    if path is None:
        return f"{what} before a run folder was made; nothing was written"
    if resumable:
        return (
            f"{what}; every file in {path} is whole and its last checkpoint is kept: resume with "
            f"`{shlex.join(['mlplab', 'run', experiment, '--resume', str(path)])}`"
        )
    return f"{what}; {path} has no checkpoint yet, so it cannot be resumed: start the run again"


def _what(exc: KeyboardInterrupt) -> str:
    return "stopped by SIGTERM" if isinstance(exc, Terminated) else "interrupted"


class _QuietWhenClosed:
    """A console stream that goes quiet when its reader has gone (`mlplab list | head -1`): the work goes on and
    later output goes to os.devnull, as Python's documentation advises for SIGPIPE / BrokenPipeError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)
        with contextlib.suppress(OSError):
            self._stream.flush()  # what the reader never took goes to devnull now, not at exit

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _guarded(stream):
    """`stream` wrapped in _QuietWhenClosed where it writes to a file descriptor (not a test's capture)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    return _QuietWhenClosed(stream)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    old_streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _guarded(sys.stdout), _guarded(sys.stderr)
    try:
        with sigterm_as_interrupt():  # SIGTERM (a batch scheduler, `docker stop`) is handled as Ctrl-C
            code = _main(argv)
        sys.stdout.flush()
        return code
    finally:
        sys.stdout, sys.stderr = old_streams


def _main(argv: list[str] | None) -> int:
    from mlplab.runs import written_runs

    before = set(written_runs())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logger = logging.getLogger("mlplab")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        args, extra = _parser().parse_known_args(argv)
        if extra and args.command in ("run", "sweep", "tune") and not any(e.startswith("-") for e in extra):
            getattr(args, {"run": "overrides", "sweep": "axes", "tune": "items"}[args.command]).extend(extra)
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
        elif args.command == "tune":
            return cmd_tune(args)
        elif args.command == "data":
            from mlplab.data.sources.inspect import inspect_command

            print(inspect_command(args.source, args.options))
        elif args.command == "tour":
            return cmd_tour(args.root)
        return 0
    except UserError as exc:
        print(f"mlplab: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except RunFailed as exc:
        print(f"mlplab: run failed: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"mlplab: {_one_line(_stopped(_what(exc), before))}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:
        if exc.errno in REFUSALS and exc.filename:  # the operating system said no to a path: bad input
            print(f"mlplab: error: {_one_line(_refused(exc))}", file=sys.stderr)
            return UserError.exit_code
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _internal(exc)
        where = f" while writing {exc.filename}" if exc.filename else ""
        what = f"the disk is full ({exc.strerror or os.strerror(exc.errno)}{where})"
        print(f"mlplab: run failed: {_one_line(_stopped(what, before))}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: say so in one line unless debugging
        return _internal(exc)
    finally:
        logger.removeHandler(handler)


# errors with which the operating system refuses a path the user chose (a folder, a name): bad input, exit 2
REFUSALS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.ELOOP)


def _refused(exc: OSError) -> str:
    from mlplab.errors import shown

    what = exc.strerror or os.strerror(exc.errno)
    name = os.fspath(exc.filename)
    if os.path.basename(name).startswith(".") and name.endswith(".tmp"):  # an atomic write's temporary file
        name = os.path.dirname(name) or "."
    return f"{what}: {shown(name, 160)}; give a path that mlplab may read and write"


def _internal(exc: BaseException) -> int:
    if os.environ.get("MLPLAB_DEBUG"):
        traceback.print_exception(exc)
    else:
        print(
            f"mlplab: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(set MLPLAB_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
