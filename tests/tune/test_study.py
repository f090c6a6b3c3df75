"""One real study (7 trials, median pruner, SQLite) checked against independent recomputations: Optuna's seeded
TPE replayed, the median rule of each pruning, the confirmation statistics from the runs' metrics.json."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats


def test_every_trial_is_a_run_folder_inside_the_space(study_dir, files):
    result = files.read(study_dir / "study.json")
    assert len(result["trials"]) == files.TRIALS
    assert sum(result["counts"][s] for s in ("complete", "pruned")) == files.TRIALS
    for row in result["trials"]:
        run = study_dir / row["run"]
        config = __import__("yaml").safe_load((run / "config.yaml").read_text())
        assert 1e-4 <= config["lr"] <= 0.3 and 0 <= config["dropout"] <= 0.5
        assert config["hidden"] in ([16], [32]) and config["epochs"] == 3 and config["seed"] == 0
        assert (
            config["lr"] == row["params"]["lr"]
            and json.dumps(config["hidden"], separators=(",", ":")) == row["params"]["hidden"]
        )
        marker = files.read(run / "tune.json")
        assert marker["trial"] == row["trial"] and marker["state"] == row["state"]
        history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert [h["val_accuracy"] for h in history] == pytest.approx(marker["values"])
        # the trial's value is its best validation accuracy (never a test number)
        assert row["value"] == pytest.approx(max(marker["values"]) if row["state"] == "complete" else row["value"])
        assert files.read(run / "status.json")["status"] == "finished"


def test_sampling_is_optunas_seeded_tpe(study_dir, files):
    """Replaying the recorded trials into a fresh in-memory study with TPESampler(seed=0) asks the same params."""
    import optuna

    from mlplab.tune.space import parse_space

    space = parse_space("classify", files.SPACE).distributions()
    result = files.read(study_dir / "study.json")
    replay = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    for row in result["trials"]:
        trial = replay.ask(space)
        assert trial.params == _approx(row["params"])
        for step, value in sorted(row["intermediate"].items(), key=lambda kv: int(kv[0])):
            trial.report(value, int(step))
        state = optuna.trial.TrialState.PRUNED if row["state"] == "pruned" else optuna.trial.TrialState.COMPLETE
        replay.tell(trial, row["value"] if state == optuna.trial.TrialState.COMPLETE else None, state=state)


def _approx(params):
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in params.items()}


def test_pruned_trials_stopped_by_the_median_rule_and_kept_their_folders(study_dir, files):
    result = files.read(study_dir / "study.json")
    rows = result["trials"]
    pruned = [r for r in rows if r["state"] == "pruned"]
    assert pruned, "the wide lr range should make the median pruner stop at least one trial"
    for r in pruned:
        marker = files.read(study_dir / r["run"] / "tune.json")
        step = marker["pruned_at_epoch"]
        assert r["epochs_run"] == step < 3  # stopped early: fewer epochs than configured
        assert (study_dir / r["run"] / "metrics.json").is_file()  # the run still finished and kept its folder
        earlier = [c for c in rows if c["state"] == "complete" and c["trial"] < r["trial"]]
        assert len(earlier) >= 3  # the pruner's startup trials
        median = float(np.percentile([c["intermediate"][str(step)] for c in earlier], 50))
        assert max(marker["values"][:step]) < median
    for r in rows:  # the complete trials ran every epoch
        if r["state"] == "complete":
            assert r["epochs_run"] == 3


def test_confirmation_statistics_recomputed_from_metrics_json(study_dir, files):
    result = files.read(study_dir / "study.json")
    conf = result["confirmation"]
    best = max((r for r in result["trials"] if r["state"] == "complete"), key=lambda r: r["value"])
    assert result["best"]["trial"] == best["trial"]
    assert conf["seeds"] == [1, 2]  # fresh: the search ran seed 0 only
    values = {}
    for arm in ("best", "defaults"):
        runs = sorted((study_dir / "confirm").glob(f"{arm}-seed*"))
        assert len(runs) == files.SEEDS
        values[arm] = [files.read(r / "metrics.json")["test_accuracy"] for r in runs]
        configs = [__import__("yaml").safe_load((r / "config.yaml").read_text()) for r in runs]
        assert sorted(c["seed"] for c in configs) == [1, 2]
        if arm == "best":
            assert all(c["lr"] == best["params"]["lr"] for c in configs)
        else:  # the experiment's defaults, with only the fixed keys of the command
            assert all(c["lr"] == 1e-3 and c["hidden"] == [1024, 1024] and c["epochs"] == 3 for c in configs)
        x = np.array(values[arm])
        n, mean, sd = len(x), x.mean(), x.std(ddof=1)
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        got = conf["arms"][arm]
        assert got["values"] == pytest.approx(sorted(values[arm], key=lambda v: got["values"].index(v)))
        assert (got["mean"], got["std"]) == pytest.approx((mean, sd))
        assert (got["ci_low"], got["ci_high"]) == pytest.approx((mean - half, mean + half))
    a, b = np.array(values["best"]), np.array(values["defaults"])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    p = 2 * stats.t.sf(abs(t), df)
    assert conf["welch_t"] == pytest.approx(t) and conf["welch_p"] == pytest.approx(p)
    beats = p < 0.05 and a.mean() > b.mean()
    assert ("beats the defaults beyond the seed noise" in conf["verdict"]) == beats
    csv = (study_dir / "tables" / "confirmation.csv").read_text().splitlines()
    assert csv[0].startswith("arm,n,mean,std,ci_low,ci_high") and len(csv) == 3


def test_the_study_object(study_dir, files):
    import mlplab

    study = mlplab.Study(study_dir)
    assert [r["trial"] for r in study.table] == list(range(files.TRIALS))
    assert {"trial", "state", "val_accuracy", "epochs_run", "lr", "hidden", "dropout", "run"} <= set(study.table[0])
    page = study._repr_html_()
    assert "study.html" in page and study.confirmation["verdict"].split(" (")[0] in page
    assert study.best["command"].startswith("mlplab run classify epochs=3 knn_k=3 lr=")


def test_the_study_page_shows_what_the_files_hold(study_dir, files):
    import html
    import re
    from urllib.parse import unquote

    result = files.read(study_dir / "study.json")
    page = (study_dir / "study.html").read_text()
    for name in ("history", "curves", "importances", "slices"):
        assert f"figures/{name}.png" in page and (study_dir / "figures" / f"{name}.png").stat().st_size > 1000
    for link in re.findall(r"(?:href|src)='([^']+)'", page):  # every local link resolves
        assert (study_dir / unquote(link)).exists(), link
    assert (study_dir / result["best"]["page"]).name == "report.html"  # the best trial's run page was built
    counts = result["counts"]
    assert f"{counts['complete']} complete" in page and f"{counts['pruned']} pruned" in page
    assert "selects on the validation set only" in page
    assert html.escape(result["best"]["command"]) in page
    assert result["confirmation"]["verdict"].split(" (")[0] in page
    assert set(result["importances"]) == {"lr", "hidden", "dropout"}
    assert sum(result["importances"].values()) == pytest.approx(1.0)
    assert page.count("<tr class=") == files.TRIALS
