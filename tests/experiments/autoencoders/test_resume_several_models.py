"""A multi-model run (ae-undercomplete: one AE per h) that is interrupted resumes: finished models are not
trained again, the unfinished one continues from its last checkpoint, and the numbers are the uninterrupted run's."""
import json

import pytest

from mlplab.runs import Run

TINY = ["ae-undercomplete", "hs=[16,32,48]", "epochs=2", "batch_size=64"]


def _numbers(run_dir):
    run = Run.open(run_dir)
    metrics = {k: v for k, v in run.metrics().items() if "seconds" not in k}
    history = [{k: v for k, v in row.items() if "seconds" not in k} for row in run.history()]
    return metrics, history


@pytest.mark.parametrize("model, epoch", [("h32", 2), ("h48", 1)])
def test_interrupted_multi_model_run_resumes_to_the_same_numbers(cli, tmp_path, interrupt_after, model, epoch):
    assert cli("run", *TINY, "--out", str(tmp_path / "whole"))[0] == 0

    undo = interrupt_after(model, epoch)
    code, _, err = cli("run", *TINY, "--out", str(tmp_path / "cut"))
    assert code == 130, err
    undo()
    cut = tmp_path / "cut"
    assert not (cut / "metrics.json").exists()
    finished = {p.stem for p in (cut / "checkpoints").glob("h*.pt") if "-" not in p.stem}
    assert finished == ({"h16"} if model == "h32" else {"h16", "h32"})
    before = {name: (cut / "checkpoints" / f"{name}.pt").stat().st_mtime_ns for name in finished}

    code, out, err = cli("run", "ae-undercomplete", "--resume", str(cut))
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(cut)
    # finished models were loaded, not trained again
    assert all((cut / "checkpoints" / f"{n}.pt").stat().st_mtime_ns == t for n, t in before.items())
    assert _numbers(cut) == _numbers(tmp_path / "whole")
    rows = [json.loads(line) for line in (cut / "metrics.jsonl").read_text().splitlines()]
    assert [(r["model"], r["epoch"]) for r in rows] == [(h, e) for h in ("h16", "h32", "h48") for e in (1, 2)]
