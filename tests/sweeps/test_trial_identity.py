"""A trial is identified by what its values read as, never by its position (issue 23, items 1 and 2).

The same sweep typed with its keys in another order, or with its values spelled otherwise, finds its
finished trials and keeps each result under its own settings; two spellings of one value are refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from mlplab.errors import UserError
from mlplab.sweeps import parse_grid, validate

FIXED = ["hidden=[16]", "epochs=1", "seed=0"]
LR, DROPOUT = "lr=0.001,0.05", "dropout=0,0.5"


def _points_against_the_runs(path: Path, summary: dict) -> None:
    """Every grid point of the summary shows the numbers of the runs whose config.yaml has its settings."""
    assert summary["ok"] == 4 and len(summary["points"]) == 4
    for entry in summary["points"]:
        (run,) = entry["runs"]
        config = yaml.safe_load((path / run / "config.yaml").read_text())
        point = {k: float(v) for k, v in entry["point"].items()}
        assert point == {"lr": config["lr"], "dropout": config["dropout"]}, (entry["point"], run)
        metrics = json.loads((path / run / "metrics.json").read_text())
        assert entry["metrics"]["test_accuracy"]["mean"] == metrics["test_accuracy"]


def test_keys_in_another_order_keep_each_result_with_its_settings(cli, tmp_path, sw):
    code, out, err = cli("sweep", "classify", LR, DROPOUT, *FIXED, "--workers", "2", "--no-report")
    assert code == 0, err
    (path,) = (tmp_path / "sweeps").iterdir()
    first = sw.summary(path)
    _points_against_the_runs(path, first)
    ledger = sw.ledger(path)

    # the same sweep, keys typed in another order: the same default folder, nothing runs again
    code, out, err = cli("sweep", "classify", *FIXED[::-1], DROPOUT, LR, "--workers", "2", "--no-report")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "sweeps").iterdir()] == [path.name]
    assert "4 finished earlier, skipped" in err and sw.ledger(path) == ledger
    second = sw.summary(path)
    _points_against_the_runs(path, second)
    by_point = lambda s: {json.dumps(e["point"], sort_keys=True): e["metrics"]["test_accuracy"]["mean"] for e in s}
    assert by_point(second["points"]) == by_point(first["points"])
    assert {r["id"] for r in ledger} == {"000", "001", "002", "003"}

    # values spelled otherwise (1e-3 for 0.001, 0.0 for 0) with --out: the same trials, found by what they read as
    code, out, err = cli(
        "sweep", "classify", "dropout=0.0,5e-1", "lr=1e-3,5e-2", *FIXED, "--out", str(path), "--no-report"
    )
    assert code == 0, err
    assert "4 finished earlier, skipped" in err and sw.ledger(path) == ledger
    _points_against_the_runs(path, sw.summary(path))

    # a ledger written before trials carried their settings: its lines are identified by their overrides
    lines = [{k: v for k, v in r.items() if k != "settings"} for r in ledger]
    (path / "trials.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    code, out, err = cli("sweep", "classify", DROPOUT, *FIXED, LR, "--workers", "2", "--no-report")
    assert code == 0, err
    assert "4 finished earlier, skipped" in err and sw.ledger(path) == lines
    _points_against_the_runs(path, sw.summary(path))


def test_trial_ids_do_not_depend_on_the_typed_order():
    a = validate(parse_grid("classify", [LR, DROPOUT, "seed=0,1"]))
    b = validate(parse_grid("classify", ["seed=0,1", DROPOUT, LR]))
    ids = lambda trials: {t.key: t.id for t in trials}
    assert ids(a) == ids(b) and sorted(ids(a).values()) == [f"{i:03d}" for i in range(8)]
    assert len({t.key for t in a}) == 8


@pytest.mark.parametrize(
    "items, message",
    [
        (["seed=1,+1"], "'1' and '+1' both read as 1"),
        (["seed=0,00"], "00"),  # twice the same (or, where only decimals are read, a leading zero)
        (["hidden=[16],16"], "'[16]' and '16' both read as [16]"),
        (["lr=1e-3,0.001"], "'1e-3' and '0.001' both read as 0.001"),
        (["dropout=0,0.0", "seed=0,1"], "'0' and '0.0' both read as 0.0"),
        (["augment=[flip],[ flip ]"], "both read as"),
    ],
)
def test_one_value_spelled_twice_is_refused(items, message):
    with pytest.raises(UserError, match=re.escape(message)):
        validate(parse_grid("classify", items))
