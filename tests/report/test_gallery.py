"""index.html of a folder of runs: cards, table, sweeps, and the CLI that builds it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from mlplab.report.page.gallery import find_runs, write_gallery
from mlplab.runs import Run

from .conftest import write_png


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.cards = 0
        self.rows = 0
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [a[k] for k in ("href", "src") if a.get(k)]
        self.cards += tag == "a" and a.get("class") == "card"
        self.rows += tag == "td" and a.get("data-sort") is not None
        self.scripts += tag == "script"


def make(root: Path, name: str, experiment: str, acc: float, started: str) -> Run:
    run = Run.create(experiment, {"dataset": "digits", "seed": 0}, out=root / name)
    run.save_metrics({"test_accuracy": acc})
    run.write_json("status.json", {"status": "finished", "started": started, "seconds": 2.5, "command": "x"})
    write_png(run.figure("confusion"))
    (run.path / "report.html").write_text("<p>report</p>")
    return run


def test_gallery_lists_every_run_and_sweep_with_working_links(tmp_path, hostile_run):
    root = tmp_path / "runs"
    make(root, "classify/a", "classify", 0.9, "2026-12-01T10:00:00")
    make(root, "classify/b", "classify", 0.95, "2026-12-01T11:00:00")
    sweep = root / "sweeps" / "lr"
    make(sweep, "trial-0", "classify", 0.5, "2026-12-01T12:00:00")
    (sweep / "sweep.yaml").write_text("grid: {}\n")
    (sweep / "summary.html").write_text("<p>summary</p>")
    (hostile_run.path / "report.html").write_text("<p>report</p>")
    runs, sweeps = find_runs(root)
    assert len(runs) == 4 and [s.path for s in sweeps] == [sweep]
    page = write_gallery(root).read_text()
    parsed = Links()
    parsed.feed(page)
    assert parsed.cards == 4 and parsed.rows == 4 * 7 and parsed.scripts == 1
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "sweeps/lr/summary.html" in parsed.refs and "sweeps/lr/sweep.yaml" in parsed.refs
    for ref in parsed.refs:
        if not ref.startswith("data:"):
            assert (root / unquote(ref)).is_file(), ref
    # newest first; the main number is the accuracy in percent
    assert page.index("sweeps/lr/trial-0") < page.index("classify/b") < page.index("classify/a")
    assert "95.00 %" in page and "90.00 %" in page


def test_cli_report_on_a_runs_folder_builds_the_gallery(tmp_path, cli):
    root = tmp_path / "runs"
    make(root, "classify/a", "classify", 0.9, "2026-12-01T10:00:00")
    code, out, err = cli("report", str(root))
    assert code == 0 and out.strip().endswith("index.html") and (root / "index.html").is_file()


def test_cli_report_on_something_else_is_one_line(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    code, out, err = cli("report", str(tmp_path / "empty"))
    assert code == 2 and "not a run folder" in err and len(err.strip().splitlines()) == 1


def test_mlplab_run_refreshes_the_gallery_and_the_page_links_back(demo_experiment, cli, tmp_path):
    code, out, err = cli("run", demo_experiment)
    assert code == 0, err
    assert (tmp_path / "runs" / "index.html").is_file() and "gallery: " in out
    code, out, err = cli("run", demo_experiment, "seed=1")
    page = next(p for p in (tmp_path / "runs").rglob("report.html") if "seed=1" in p.read_text())
    assert "href='../../index.html'" in page.read_text()
    assert (tmp_path / "runs" / "index.html").read_text().count("class='card'") == 2


def test_tour_prints_the_gallery_last(demo_experiment, cli, tmp_path, monkeypatch):
    from mlplab.experiments import EXPERIMENTS

    only = {demo_experiment: EXPERIMENTS.get(demo_experiment)}
    monkeypatch.setattr(EXPERIMENTS, "_items", only)
    code, out, err = cli("tour", "--root", str(tmp_path / "t"))
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    assert last.endswith(str((tmp_path / "t" / "index.html").resolve()))
    page = (tmp_path / "t" / "index.html").read_text()
    assert page.count("class='card'") == 1
    report = next((tmp_path / "t").rglob("report.html")).read_text()
    assert "href='../../index.html'" in report  # the gallery existed before the run page was written
