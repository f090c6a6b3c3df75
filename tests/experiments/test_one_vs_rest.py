"""one-vs-rest: binary counts against sklearn, the BCE loss against torch, counts that add up, targets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from mlplab.analysis.metrics import BinaryCounts
from mlplab.nn import build_model
from mlplab.nn.one_vs_rest import OneVsRestMLP

KEYS = {
    "digit",
    "class_name",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "false_positives_by_class",
    "false_negatives_by_class",
}


def test_binary_counts_match_sklearn():
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(300, generator=g) < 0.2
    said = torch.where(torch.rand(300, generator=g) < 0.85, truth, ~truth)
    c = BinaryCounts.of(truth, said)
    assert c.tp + c.fp + c.tn + c.fn == 300
    assert c.accuracy == pytest.approx(accuracy_score(truth, said))
    assert c.precision == pytest.approx(precision_score(truth, said))
    assert c.recall == pytest.approx(recall_score(truth, said))
    assert c.f1 == pytest.approx(f1_score(truth, said))


def test_loss_is_binary_cross_entropy_of_the_sigmoid_outputs():
    torch.manual_seed(0)
    model = OneVsRestMLP(6, [5], [2, 0])
    x, y = torch.randn(8, 6), torch.tensor([0, 1, 2, 2, 0, 3, 1, 2])
    targets = torch.stack([(y == 2), (y == 0)], 1).float()
    expected = torch.nn.BCELoss()(torch.sigmoid(model(x)), targets)
    out = model.loss((x, y))
    torch.testing.assert_close(out["loss"], expected)
    # the accuracy is the share of right binary decisions, computed when read (sklearn's, over every decision)
    said = (torch.sigmoid(model(x)) > 0.5).flatten()
    assert out["accuracy"].mean().item() == pytest.approx(accuracy_score(targets.flatten().bool(), said.detach()))
    assert isinstance(model.net.act1, torch.nn.LeakyReLU)


def test_model_rebuilds_from_its_spec():
    model = OneVsRestMLP(6, [5], [3])
    again = build_model(model.spec)
    again.load_state_dict(model.state_dict())
    x = torch.randn(4, 6)
    torch.testing.assert_close(again(x), model(x))


def check_counts_add_up(run, digit: int) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    assert set(m) == KEYS
    assert m["digit"] == digit and m["class_name"] == str(np.load(run / "arrays" / "predictions.npz")["classes"][digit])
    p = np.load(run / "arrays" / "predictions.npz")
    y, said = p["y_true"], p["p_digit"] > 0.5
    classes = [str(c) for c in p["classes"]]
    is_d = y == digit
    tp, fp, tn, fn = (is_d & said).sum(), (~is_d & said).sum(), (~is_d & ~said).sum(), (is_d & ~said).sum()
    assert fp + tn == (~is_d).sum() and tp + fn == is_d.sum()
    others = [c for i, c in enumerate(classes) if i != digit]
    assert list(m["false_positives_by_class"]) == others and list(m["false_negatives_by_class"]) == others
    assert sum(m["false_positives_by_class"].values()) == fp
    assert sum(m["false_negatives_by_class"].values()) == fn
    for i, c in enumerate(classes):
        if i != digit:
            assert m["false_positives_by_class"][c] == (said & (y == i)).sum() <= (y == i).sum()
    assert m["accuracy"] == pytest.approx((tp + tn) / len(y))
    assert m["precision"] == pytest.approx(tp / max(1, tp + fp)) and m["recall"] == pytest.approx(tp / is_d.sum())
    # a missed D is charged to the most confident other output of the every-class network
    others_p = p["p_every"].copy()
    others_p[:, digit] = -1
    taken = others_p[is_d & ~said].argmax(1)
    assert [m["false_negatives_by_class"][c] for c in others] == [
        int((taken == i).sum()) for i in range(len(classes)) if i != digit
    ]
    return m


def test_one_vs_rest_on_digits_counts_add_up(cli, tmp_path):
    code, out, err = cli("run", "one-vs-rest", "digit=8", "epochs=4", "--out", "o")
    assert code == 0, err
    check_counts_add_up(tmp_path / "o", 8)
    assert (tmp_path / "o" / "figures" / "errors_by_class.png").is_file()
    assert (tmp_path / "o" / "checkpoints" / "best.pt").is_file()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["digit=10"], "'digit': 10 is not a class of 'digits'; choose 0..9"),
        (["digit=-1"], "'digit'"),
        (["digit=two"], "'digit'"),
        (["hidden=[]"], "'hidden'"),
    ],
)
def test_one_vs_rest_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    code, out, err = cli("run", "one-vs-rest", *args, "--out", "bad")
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad" / "metrics.json").exists()


@pytest.mark.slow
def test_one_vs_rest_digit_2_reaches_targets_on_real_mnist(cli, tmp_path, mnist_dir):
    code, _, err = cli("run", "one-vs-rest", "dataset=mnist", f"data_dir={mnist_dir}", "digit=2", "--out", "o")
    assert code == 0, err
    m = check_counts_add_up(tmp_path / "o", 2)
    assert m["accuracy"] >= 0.995
    assert m["precision"] >= 0.97 and m["recall"] >= 0.97
