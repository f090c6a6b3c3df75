"""Every registered experiment runs end to end on tiny settings and leaves a complete run folder."""

import json

import pytest

from mlplab.experiments import EXPERIMENTS
from mlplab.runs import Run


@pytest.mark.parametrize("name", EXPERIMENTS.names())
def test_every_experiment_runs_end_to_end(name, trained):
    """`mlplab run NAME SMOKE... --out DIR`: made once a session, and read-only tests elsewhere reuse the folder."""
    code, out, err, path = trained.smoke(name)
    assert code == 0, err
    run = Run.open(path)
    assert out.strip().splitlines()[-1] == str(run.path)
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics, "an experiment must report numbers"
    assert (run.path / "env.json").is_file() and (run.path / "report.html").is_file()
    assert list((run.path / "figures").glob("*.png")), "an experiment must leave figures"
    # a builder's error is blamed on the file it last read (report.page.damage.salvage): a fresh run has none
    assert "does not hold what mlplab wrote" not in err and "is damaged" not in err, err
    assert not list(run.path.rglob("*.tmp")), "no temporary file may survive"


def test_every_experiment_is_described():
    for name in EXPERIMENTS.names():
        assert EXPERIMENTS.get(name).description, name


@pytest.mark.slow
def test_tour_runs_every_experiment_with_its_defaults(cli, tmp_path, monkeypatch):
    """Defaults must work on the embedded data, not only the smoke settings (this once caught ae-conv)."""
    monkeypatch.setenv("MLPLAB_CACHE", str(tmp_path / "cache"))
    code, out, err = cli("tour", "--root", str(tmp_path / "runs"))
    assert code == 0, err.splitlines()[-1]
    reports = [line for line in out.splitlines() if line.endswith("report.html")]
    assert len(reports) == len(EXPERIMENTS.names())
    for name in EXPERIMENTS.names():
        assert list((tmp_path / "runs" / name).glob("*/report.html")), name
