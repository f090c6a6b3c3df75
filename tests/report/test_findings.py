"""Findings are composed in report/ from the run folder: new wording reaches report.html without training."""

import html

from mlplab.report import FINDINGS, Finding, findings_for
from mlplab.runs import Run


def test_rewording_a_finding_changes_the_report_without_training(cli, trained, tmp_path, monkeypatch):
    trained.copy_command(tmp_path / "r", "explore")  # `mlplab run explore` (its defaults): a copy of its own
    run = Run.open(tmp_path / "r")
    old = findings_for(run)
    assert old and "not separated" in old[0].text
    assert html.escape(old[0].text) in (run.path / "report.html").read_text()
    kept = {
        p: p.read_bytes()
        for p in run.path.rglob("*")
        if p.is_file() and p.name != "report.html" and p.parent.name != "figures"
    }

    builder = FINDINGS.get("explore")

    def reworded(r):
        return [
            Finding("Reworded: " + f.title, f.text.replace("not separated", "hardly apart"), f.about)
            for f in builder(r)
        ]

    monkeypatch.setitem(FINDINGS._items, "explore", reworded)
    code, out, err = cli("report", str(run.path))
    assert code == 0, err
    page = (run.path / "report.html").read_text()
    assert "Reworded: Which classes PCA separates" in page and "hardly apart" in page
    assert "not separated" not in page
    assert {p: p.read_bytes() for p in kept} == kept, "a report never rewrites the run's data"


def test_every_experiment_with_findings_has_a_builder():
    from mlplab.experiments import EXPERIMENTS
    from mlplab.report import discover

    discover()

    assert set(EXPERIMENTS.names()) - set(FINDINGS.names()) <= {"scratch-mnist"}
