"""A study folder in the gallery: a row that links to its study.html with its counts, best value and verdict, and
a gallery that is still written beside a damaged or unfinished study."""

from __future__ import annotations

import json
import logging
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import unquote


class StudyRows(HTMLParser):
    """The text of each cell of table#studies, row by row, and every link of the page."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._in = self._cell = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("href"):
            self.links.append(a["href"])
        if tag == "table":
            self._in = a.get("id") == "studies"
        elif self._in and tag == "tr":
            self.rows.append([])
        elif self._in and tag == "td":
            self._cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = False
        if tag == "table":
            self._in = False

    def handle_data(self, data):
        if self._in and self._cell:
            self.rows[-1][-1] += data


def test_the_gallery_links_each_study_with_its_counts_best_value_and_verdict(study_dir, tmp_path, caplog):
    from mlplab.report.page.gallery import write_gallery

    root = tmp_path / "root"
    shutil.copytree(study_dir, root / "studies" / "lr")
    shutil.copytree(study_dir, root / "studies" / "torn")
    (root / "studies" / "torn" / "study.json").write_text('{"experiment": "classify", "cou')
    shutil.copytree(study_dir, root / "studies" / "odd")
    (root / "studies" / "odd" / "study.json").write_text(json.dumps({"experiment": "classify", "counts": [1, 2]}))
    (root / "studies" / "running").mkdir()
    shutil.copy(study_dir / "tune.yaml", root / "studies" / "running" / "tune.yaml")
    with caplog.at_level(logging.WARNING, logger="mlplab.report"):
        page = write_gallery(root).read_text()
    result = json.loads((study_dir / "study.json").read_text())
    parsed = StudyRows()
    parsed.feed(page)
    rows = {r[0]: r for r in parsed.rows[1:]}
    assert sorted(rows) == ["studies/lr", "studies/odd", "studies/running", "studies/torn"]
    c, best, conf = result["counts"], result["best"]["value"], result["confirmation"]
    _, experiment, counts, shown, verdict = rows["studies/lr"]
    assert experiment == "classify" and verdict == conf["verdict"]
    assert counts == " · ".join(f"{n} {state}" for state, n in c.items() if n)
    assert f"{c['complete']} complete" in counts and sum(c.values()) == len(result["trials"])
    assert shown == f"{100 * best:.2f} % {result['metric']}"  # a validation accuracy, in percent as on every page
    assert best == max(t["value"] for t in result["trials"] if t["state"] == "complete")
    # damaged: named once each in a warning, shown without numbers; unfinished: said so
    assert rows["studies/torn"][1:4] == ["", "", ""] and "study.json is damaged" in rows["studies/torn"][4]
    assert "study.json is damaged" in rows["studies/odd"][4]
    assert rows["studies/running"][4].startswith("no results yet")
    warned = [r.getMessage() for r in caplog.records]
    assert sum("studies/torn/study.json is damaged (not valid JSON" in w for w in warned) == 1
    assert sum("studies/odd/study.json is damaged (not the study.json mlplab writes" in w for w in warned) == 1
    # the study pages' links resolve; the studies' trial runs are cards of the gallery as a sweep's are
    pages = [ref for ref in parsed.links if ref.endswith("study.html")]
    assert pages == ["studies/lr/study.html", "studies/odd/study.html", "studies/torn/study.html"]
    assert all((root / unquote(ref)).is_file() for ref in pages)
    trials = len(list((study_dir / "trials").glob("*/config.yaml"))) + len(
        list(study_dir.glob("confirm/*/config.yaml"))
    )
    assert len(re.findall(r"<a class='card'", page)) == 3 * trials
    assert "<b>4</b> studies" in page
