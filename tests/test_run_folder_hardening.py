"""The run folder under stress: damaged files, a full disk, a second writer, Ctrl-C, the umask (issue 11)."""

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mlplab.runs as runs
from mlplab.cache import sweep_stale
from mlplab.errors import DamagedFile
from mlplab.runs import Run

SRC = Path(__file__).resolve().parents[1] / "src"
TINY = ["hidden=[32]", "epochs=2"]


# ---- 13: atomic writes honour the umask -----------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        runs.atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == mode


# ---- 11: damaged files are named --------------------------------------------------------------
@pytest.mark.parametrize(
    "name, content, read",
    [
        ("metrics.jsonl", b'{"epoch": 1}\n\xff\xfe{"epoch": 2}\n', lambda r: r.history),
        ("metrics.jsonl", b'{"epoch": 1}\n{"epo\n{"epoch": 3}\n', lambda r: r.history),
        ("metrics.json", b'{"test_accuracy": 0.9', lambda r: r.metrics),
        ("metrics.json", b"[1, 2]", lambda r: r.metrics),
        ("config.yaml", b"experiment: classify\nhidden: [32,\n", lambda r: r.config),
        ("config.yaml", b"- just\n- a list\n", lambda r: r.experiment),
        ("status.json", b'{"status": "runn', lambda r: r.status),
        ("status.json", b'["finished"]', lambda r: r.status),
        ("arrays/predictions.npz", None, lambda r: r.load_arrays("predictions")),
    ],
)
def test_damaged_files_raise_one_error_naming_the_file(tmp_path, name, content, read):
    run = Run.create("classify", {"seed": 0}, out=tmp_path / "r")
    if content is None:  # a truncated archive
        run.save_arrays("predictions", y=list(range(1000)))
        f = run.path / name
        f.write_bytes(f.read_bytes()[:60])
    else:
        (run.path / name).write_bytes(content)
    with pytest.raises(DamagedFile) as err:
        read(run)
    assert str(run.path / name) in str(err.value) and "\n" not in str(err.value)


def test_a_torn_last_line_from_a_kill_is_skipped(tmp_path):
    run = Run.create("classify", {}, out=tmp_path / "r")
    (run.path / "metrics.jsonl").write_text('{"epoch": 1}\n{"epoch": 2}\n{"epo')
    assert run.history == [{"epoch": 1}, {"epoch": 2}]


def test_report_names_a_damaged_arrays_file_and_builds_the_rest(cli, tiny_run):
    for figure in tiny_run.glob("figures/*.png"):
        figure.unlink()
    (tiny_run / "report.html").unlink()
    f = tiny_run / "arrays" / "predictions.npz"
    f.write_bytes(f.read_bytes()[:100])
    code, out, err = cli("report", str(tiny_run))
    assert code == 0 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(f) in lines[0] and "left out" in lines[0]
    assert (tiny_run / "report.html").is_file() and (tiny_run / "figures" / "loss_curves.png").is_file()
    assert not (tiny_run / "figures" / "confusion_matrix.png").exists()


@pytest.mark.parametrize(
    "name, content, missing",
    [
        ("metrics.json", b'{"test_accuracy": 0.9', "<h2>All numbers</h2>"),
        ("config.yaml", b"experiment: [classify\n", "<summary>Configuration (resolved"),
        ("metrics.jsonl", b"\xff\xff\n" * 3, None),
        ("env.json", b"{", "<summary>Environment (env.json)"),
    ],
)
def test_report_names_each_damaged_file_and_still_writes_the_page(cli, tiny_run, name, content, missing):
    assert missing is None or missing in (tiny_run / "report.html").read_text(), "the healthy page shows it"
    (tiny_run / name).write_bytes(content)
    (tiny_run / "report.html").unlink()
    code, out, err = cli("report", str(tiny_run))
    assert code == 0 and "Traceback" not in err and str(tiny_run / name) in err
    page = (tiny_run / "report.html").read_text()
    if missing:
        assert missing not in page


def test_resume_of_a_run_with_a_damaged_config_names_it(cli, tiny_run):
    (tiny_run / "config.yaml").write_bytes(b"experiment: classify\nhidden: [32,\n")
    code, out, err = cli("run", "classify", "--resume", str(tiny_run))
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(tiny_run / "config.yaml") in err


# ---- 5: one writer per run folder -----------------------------------------------------------
HOLD = (
    "import sys; from mlplab.runs import Run; r = Run(sys.argv[1]).lock(); print('locked', flush=True); "
    "sys.stdin.read()"
)


def _holder(path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_cannot_resume_a_run_that_is_being_written(cli, tiny_run):
    before = {n: (tiny_run / n).read_bytes() for n in ("config.yaml", "metrics.jsonl", "env.json")}
    proc = _holder(tiny_run)
    try:
        code, out, err = cli("run", "classify", "--resume", str(tiny_run), "epochs=3")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert f"pid {proc.pid}" in err and "is being written" in err
        assert {n: (tiny_run / n).read_bytes() for n in before} == before
    finally:
        proc.kill()
        proc.wait()
    # the owner died: its lock is taken over and the resume goes ahead
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(tiny_run), "epochs=3")
    assert code == 0, err
    assert [r["epoch"] for r in Run.open(tiny_run).history] == [1, 2, 3]
    assert not (tiny_run / runs.LOCK_FILE).exists()  # released when done


def test_the_lock_is_held_while_a_run_is_written(tmp_path):
    run = Run.create("classify", {}, out=tmp_path / "r")
    code = (
        "import sys; from mlplab.runs import Run\ntry:\n    Run(sys.argv[1]).lock()\nexcept Exception as e:\n"
        "    print(type(e).__name__, e)"
    )
    got = subprocess.run(
        [sys.executable, "-c", code, str(run.path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert got.stdout.startswith("RunLocked") and f"pid {os.getpid()}" in got.stdout
    run.release()
    got = subprocess.run(
        [sys.executable, "-c", code, str(run.path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert got.stdout == "" and got.returncode == 0


# ---- 7: --resume with --out -------------------------------------------------------------------
def test_resume_with_out_is_refused_before_anything_is_written(cli, tiny_run, tmp_path):
    before = {p: p.read_bytes() for p in tiny_run.rglob("*") if p.is_file()}
    code, out, err = cli("run", "classify", "--resume", str(tiny_run), "--out", str(tmp_path / "new"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--out" in err
    assert not (tmp_path / "new").exists()
    assert {p: p.read_bytes() for p in tiny_run.rglob("*") if p.is_file()} == before


# ---- 10: a full disk ----------------------------------------------------------------------------
def _full_disk_at(monkeypatch, name: str, nth: int):
    real, seen = runs.atomic_path, []

    def atomic_path(path):
        if Path(path).name == name:
            seen.append(path)
            if len(seen) == nth:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path)

    monkeypatch.setattr(runs, "atomic_path", atomic_path)


def test_a_full_disk_keeps_the_last_checkpoint_and_says_so(cli, tmp_path, monkeypatch):
    from mlplab.train import read_checkpoint

    _full_disk_at(monkeypatch, "last.pt", 2)
    code, out, err = cli("run", "classify", *TINY, "--out", str(tmp_path / "r"))
    last = err.strip().splitlines()[-1]  # after the progress lines of epoch 1
    assert code == 1 and last.startswith("mlplab: run failed: the disk is full") and "Traceback" not in err
    assert "last checkpoint is kept" in last and f"--resume {tmp_path / 'r'}" in last
    assert read_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["epoch"] == 1
    assert not list((tmp_path / "r").rglob("*.tmp"))


def test_a_full_disk_before_the_first_checkpoint_promises_nothing(cli, tmp_path, monkeypatch):
    _full_disk_at(monkeypatch, "last.pt", 1)
    code, out, err = cli("run", "classify", *TINY, "--out", str(tmp_path / "r"))
    assert code == 1 and "disk is full" in err and "no checkpoint yet" in err and "is kept" not in err


# ---- 12: messages that tell the truth ----------------------------------------------------------
def test_the_run_folder_is_shown_when_results_start_and_is_the_last_stdout_line(cli, tmp_path):
    code, out, err = cli("run", "classify", *TINY)
    path = out.strip().splitlines()[-1]
    assert code == 0 and Path(path).is_dir() and f"writing run folder {path}" in err


def test_interrupt_names_the_real_run_and_how_to_resume(cli, tmp_path, monkeypatch):
    real = Run.log

    def log(self, row):
        if row.get("epoch") == 2:
            raise KeyboardInterrupt
        real(self, row)

    monkeypatch.setattr(Run, "log", log)
    code, out, err = cli("run", "classify", *TINY, "--out", str(tmp_path / "r"))
    assert code == 130 and "RUN_DIR" not in err
    assert f"mlplab run classify --resume {tmp_path / 'r'}" in err and "checkpoint is kept" in err


def test_interrupted_gradcheck_promises_a_checkpoint_only_when_it_has_one(cli, tmp_path, monkeypatch):
    import mlplab.experiments.scratch.gradcheck as gradcheck

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    check_case = gradcheck.check_case
    monkeypatch.setattr(gradcheck, "check_case", interrupted)  # before the first case is finished
    code, out, err = cli("run", "gradcheck", "--out", str(tmp_path / "g"))
    assert code == 130 and str(tmp_path / "g") in err
    assert "no checkpoint yet" in err and "checkpoint is kept" not in err and "--resume" not in err
    monkeypatch.setattr(gradcheck, "check_case", check_case)
    monkeypatch.setattr(gradcheck, "twin_run", interrupted)  # every case finished and kept
    code, out, err = cli("run", "gradcheck", "--out", str(tmp_path / "h"))
    assert code == 130 and f"checkpoint is kept: resume with `mlplab run gradcheck --resume {tmp_path / 'h'}`" in err


def test_nan_in_the_first_epoch_claims_no_checkpoint(cli, tmp_path):
    code, out, err = cli("run", "classify", "hidden=[32]", "epochs=2", "lr=1e30", "--out", str(tmp_path / "r"))
    assert code == 1 and "no checkpoint" in err and "last good checkpoint was kept" not in err
    assert not (tmp_path / "r" / "checkpoints" / "last.pt").exists()


# ---- 14: the model cache forgets killed trainings -----------------------------------------------
def test_cache_sweeps_temporary_entries_of_dead_owners_only(tmp_path):
    dead = tmp_path / ".classify-abc.dead.tmp"
    live = tmp_path / ".classify-abc.live.tmp"
    young = tmp_path / ".classify-abc.young.tmp"
    for folder in (dead, live, young):
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "checkpoints" / "big.pt").write_bytes(b"\0" * 1000)
    (dead / runs.LOCK_FILE).write_text(json.dumps({"pid": 999999, "host": "x", "since": "then"}))
    proc = _holder(live)
    try:
        old = time.time() - 3600
        for folder in (dead, live):
            os.utime(folder, (old, old))
        assert sweep_stale(tmp_path) == [dead]
        assert not dead.exists() and live.is_dir() and young.is_dir()
    finally:
        proc.kill()
        proc.wait()
    os.utime(live, (old, old))
    assert sweep_stale(tmp_path) == [live]
