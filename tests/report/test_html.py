"""The run page: escaping, tables instead of dict text, units, findings placement, status and command."""

from __future__ import annotations

import dataclasses
import json
import shlex
from html.parser import HTMLParser

import pytest

from mlplab.config import format_overrides, parse_overrides
from mlplab.errors import UserError
from mlplab.experiments import EXPERIMENTS, execute
from mlplab.experiments.base import discover
from mlplab.report import FINDINGS, Finding
from mlplab.report.page.html import write_html
from mlplab.report.page.summary import fmt_number, main_metrics
from mlplab.runs import Run

from .conftest import EVIL


class Tags(HTMLParser):
    """Collects start tags and the text inside each <th>/<td>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    return p


@pytest.fixture
def demo_findings(monkeypatch):
    def findings(run):
        return [
            Finding("About accuracy", f"accuracy text {EVIL}", "test_accuracy"),
            Finding("About the table", "table text", "models"),
            Finding("About the run", "run text", ""),
        ]

    monkeypatch.setitem(FINDINGS._items, "report-demo", findings)


def test_hostile_strings_are_escaped_and_dicts_become_tables(hostile_run, demo_findings):
    page = write_html(hostile_run).read_text()
    tags = parse(page)
    scripts = [a for t, a in tags.tags if t == "script"]
    assert len(scripts) == 1  # only the page's own copy script; nothing injected
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    text = "".join(tags.text)
    assert EVIL in text  # shown to the reader as text
    assert '{"' not in page and "{&quot;" not in page.split("<details>")[0]
    # per-class recall: the class names are row headers, the numbers percentages
    assert "50.00 %" in text and "100.00 %" in text
    # per-layer: a matrix with a column per inner key
    ths = [d.strip() for d in tags.text]
    assert "knn_accuracy" in ths and "dims" in ths and "75.00 %" in text and "80.00 %" in text
    # main numbers with units, large, first
    assert page.index("91.23 %") < page.index("<h2>Figures")
    assert "12.3 s" in text and "12,345" in text
    # every src/href is relative and points at an existing file
    for _tag, attrs in tags.tags:
        ref = attrs.get("src") or attrs.get("href")
        if ref and not ref.startswith(("data:", "#")):
            assert "://" not in ref
            from urllib.parse import unquote

            assert (hostile_run.path / unquote(ref)).exists(), ref


def test_findings_sit_beside_their_numbers(hostile_run, demo_findings):
    page = write_html(hostile_run).read_text()
    assert page.index("About accuracy") < page.index("<h2>Figures")
    assert page.index("About the run") < page.index("<h2>Figures")
    tables = page.index("<h2>Tables")
    assert page.index("About the table") > tables and page.index("About the table") > page.index("Models")


def test_figures_have_captions_and_link_their_arrays(hostile_run):
    (hostile_run.path / "figures" / "captions.json").write_text(json.dumps({"loss_curves": "Loss per epoch"}))
    page = write_html(hostile_run).read_text()
    assert "<figcaption>Loss per epoch" in page
    assert "Reconstructions " in page  # caption from the name
    assert "href='arrays/reconstructions.npz'" in page  # behind reconstructions_*
    assert "Other arrays: <a href='arrays/unrelated.npz'>" in page


def test_captions_from_names():
    from mlplab.report.page.html import caption_for

    assert caption_for("pca_projection", {}) == "PCA projection"
    assert caption_for("loss-curves", {}) == "Loss curves"
    assert caption_for("x", {"x": "given"}) == "given"


def test_numbers_are_rounded_with_units():
    assert fmt_number("test_accuracy", 0.98765) == "98.77 %"
    assert fmt_number("accuracy", 3.5) == "3.5"  # not a fraction: no percent
    assert fmt_number("train_seconds", 75.2) == "1 min 15 s"
    assert fmt_number("epoch_seconds", 0.123) == "0.12 s"
    assert fmt_number("passed", True) == "true"
    assert fmt_number("parameters", 1234567) == "1,234,567"
    assert fmt_number("mse", 0.000012345) == "1.234e-05"
    assert fmt_number("sse", 23.50690269) == "23.51"
    assert fmt_number("x", None) == "–"


def test_main_metrics_rule_and_list():
    metrics = {"parameters": 100, "train_seconds": 3.0, "foo": 1.0, "test_mse": 0.1, "bar": {"a": 1}}
    assert [k for k, _ in main_metrics("unlisted", metrics)] == ["test_mse"]
    assert [k for k, _ in main_metrics("unlisted", {"parameters": 1, "a": 2.0, "b": 3, "c": 4})] == ["a", "b"]
    conv = {"conv_a_parameters": 5, "conv_a_test_mse": 1.0, "x": 2.0, "mlp_h4_test_mse": 3.0, "conv_b_test_mse": 4.0}
    assert [k for k, _ in main_metrics("ae-conv", conv)] == ["conv_a_test_mse", "conv_b_test_mse", "mlp_h4_test_mse"]
    assert [k for k, _ in main_metrics("classify", {"test_accuracy": 0.9, "x": 1.0})] == ["test_accuracy"]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS.names()) or ["none"])
def test_format_overrides_reads_back_as_the_same_config(name):
    discover()
    cls = EXPERIMENTS.get(name).config
    cfg = parse_overrides(cls, [])
    assert parse_overrides(cls, shlex.split(shlex.join(format_overrides(cfg.to_dict())))) == cfg


def test_command_with_hostile_values_round_trips(demo_experiment):
    cls = EXPERIMENTS.get(demo_experiment).config
    cfg = dataclasses.replace(parse_overrides(cls, []), note=EVIL + " two  spaces", seed=7)
    again = parse_overrides(cls, shlex.split(shlex.join(format_overrides(cfg.to_dict()))))
    assert again == cfg


def test_execute_records_status_and_the_reproducing_command(demo_experiment, tmp_path):
    run = execute(demo_experiment, [f"note={EVIL}", "seed=5"], out=str(tmp_path / "r"))
    status = run.status
    assert status["status"] == "finished" and status["ended"] and status["seconds"] >= 0
    argv = shlex.split(status["command"])
    assert argv[:3] == ["mlplab", "run", demo_experiment]
    cls = EXPERIMENTS.get(demo_experiment).config
    assert parse_overrides(cls, argv[3:]).to_dict() == {k: v for k, v in run.config.items() if k != "experiment"}
    page = (run.path / "report.html").read_text()
    assert "finished" in page and shlex.join(argv).replace("'", "&#x27;").replace('"', "&quot;").replace(
        "<", "&lt;"
    ).replace(">", "&gt;") in page.replace("&amp;", "&")


def test_a_failed_run_says_failed_with_its_error(demo_experiment, tmp_path):
    with pytest.raises(RuntimeError):
        execute(demo_experiment, ["fail=true"], out=str(tmp_path / "r"))
    run = Run.open(tmp_path / "r")
    assert run.status["status"] == "failed" and "boom <b>" in run.status["error"]
    page = (run.path / "report.html").read_text()  # written by execute for the failed run
    assert "badge failed" in page and "boom &lt;b&gt;" in page


def test_a_resumed_run_is_shown_as_resumed(hostile_run):
    hostile_run.write_json(
        "status.json",
        {
            "status": "finished",
            "resumes": 1,
            "seconds": 70.0,
            "started": "2026-12-01T10:00:00",
            "command": "mlplab run x",
        },
    )
    page = write_html(hostile_run).read_text()
    assert "badge resumed" in page and "1 min 10 s" in page and "2026-12-01 10:00" in page


def test_a_refused_run_leaves_no_status_behind(demo_experiment, tmp_path):
    with pytest.raises(UserError):
        execute(demo_experiment, ["nope=1"], out=str(tmp_path / "r"))
    assert not (tmp_path / "r" / "status.json").exists()


def test_resuming_keeps_the_start_and_counts_the_resume(demo_experiment, tmp_path):
    from mlplab.report.page.summary import summarize

    run = execute(demo_experiment, ["seed=2"], out=str(tmp_path / "r"))
    first = run.status
    again = execute(demo_experiment, [], resume=str(run.path))
    status = again.status
    assert status["resumes"] == 1 and status["started"] == first["started"]
    assert status["seconds"] >= first["seconds"] and "seed=2" in status["command"]
    assert summarize(again).status == "resumed"


def test_machine_in_words_from_env_json(tmp_path):
    from mlplab.report.page.summary import machine

    run = Run.create("report-demo", {"dataset": "x"}, out=tmp_path / "r")
    assert machine(run) == "an unrecorded machine"
    (run.path / "env.json").write_text(
        json.dumps({"device": "cpu", "cuda_device": None, "cpu": "AMD EPYC", "threads": 2})
    )
    assert machine(run) == "2 CPU threads (AMD EPYC)"
    (run.path / "env.json").write_text(json.dumps({"device": "cuda", "cuda_device": "NVIDIA H100", "threads": 8}))
    assert machine(run) == "NVIDIA H100 (cuda)"
