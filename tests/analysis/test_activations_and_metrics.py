"""classify deepened: hooks, per-class metrics, confused pairs, per-layer separability, real-data targets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from mlplab.analysis.activations import activations, recording
from mlplab.analysis.metrics import confusions, most_confused_pairs, precision_recall
from mlplab.errors import UserError
from mlplab.nn import MLPClassifier


def all_hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def small_model() -> MLPClassifier:
    torch.manual_seed(0)
    return MLPClassifier(12, [8, 6], 3, dropout=0.5)


def test_recorded_activations_equal_the_layers_computed_by_hand():
    model, x = small_model().eval(), torch.randn(5, 3, 2, 2)
    with recording(model, ["act1", "act2"]) as out:
        model(x)
    net = model.net
    h1 = torch.relu(net.fc1(x.flatten(1)))
    h2 = torch.relu(net.fc2(h1))
    torch.testing.assert_close(out["act1"][0], h1)
    torch.testing.assert_close(out["act2"][0], h2)


def test_hooks_leave_no_handles_even_when_the_block_fails():
    model = small_model()
    with recording(model, model.hidden_layer_names()):
        assert all_hooks(model) == 2
    assert all_hooks(model) == 0
    with pytest.raises(RuntimeError):
        with recording(model, ["act1", "net.fc2"]):
            assert all_hooks(model) == 2
            raise RuntimeError("boom")
    assert all_hooks(model) == 0


def test_unknown_layer_is_a_user_error_and_hooks_nothing():
    model = small_model()
    with pytest.raises(UserError, match="layer 'act7' does not exist.*act1, act2"):
        with recording(model, ["act1", "act7"]):
            pass
    assert all_hooks(model) == 0


def test_activations_run_in_eval_mode_in_batches_and_restore_training_mode():
    model, x = small_model().train(), torch.randn(10, 12)
    acts = activations(model, x, ["act2"], batch_size=3)  # dropout 0.5 would change the values in train mode
    assert model.training and all_hooks(model) == 0
    with torch.no_grad():
        expected = torch.relu(model.net.fc2(torch.relu(model.net.fc1(x))))  # (10, 6)
    torch.testing.assert_close(acts["act2"], expected)


def test_confusions_and_per_class_precision_recall_match_sklearn():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 5, (400,), generator=g)
    pred = torch.where(torch.rand(400, generator=g) < 0.7, y, torch.randint(0, 5, (400,), generator=g))
    cm = confusions(y, pred, 5)
    np.testing.assert_array_equal(cm.numpy(), confusion_matrix(y, pred, labels=range(5)))
    precision, recall = precision_recall(cm)
    np.testing.assert_allclose(precision.numpy(), precision_score(y, pred, average=None))
    np.testing.assert_allclose(recall.numpy(), recall_score(y, pred, average=None))


def test_most_confused_pairs_count_both_directions():
    cm = torch.tensor([[50, 3, 1], [4, 40, 1], [0, 9, 30]])
    assert most_confused_pairs(cm, 5) == [(1, 2, 10), (0, 1, 7), (0, 2, 1)]
    assert most_confused_pairs(cm, 1) == [(1, 2, 10)]
    assert most_confused_pairs(torch.eye(3, dtype=torch.long), 2) == []


def test_classify_default_on_digits_with_layer_analysis(cli, tmp_path):
    code, out, err = cli("run", "classify", "--out", "c")
    assert code == 0, err
    run = tmp_path / "c"
    m = json.loads((run / "metrics.json").read_text())
    assert m["test_accuracy"] >= 0.97
    # per-class numbers are recomputable from the saved predictions
    p = np.load(run / "arrays" / "predictions.npz")
    pred = p["probs"].argmax(1)
    ref = precision_score(p["y_true"], pred, average=None)
    assert [m["precision_per_class"][str(c)] for c in range(10)] == pytest.approx(ref.tolist())
    assert m["macro_recall"] == pytest.approx(recall_score(p["y_true"], pred, average="macro"))
    # the gallery holds real misclassified test images of the most-confused pairs
    g = np.load(run / "arrays" / "confused_pairs.npz")
    assert len(g["images"]) > 0 and (g["true"] != g["pred"]).all()
    pairs = {frozenset(pq[:2]) for pq in g["pairs"].tolist()}
    assert all(frozenset((t, q)) in pairs for t, q in zip(g["true"], g["pred"], strict=True))
    # separation grows with depth: the last hidden layer beats the raw input in 2-D
    depth = m["layer_knn_accuracy"]
    assert list(depth) == ["input", "act1", "act2"]
    assert depth["act2"] > depth["input"]
    for fig in ("layer_projections", "layer_separability", "confused_pairs", "precision_recall", "confusion_matrix"):
        assert (run / "figures" / f"{fig}.png").is_file(), fig
    assert (run / "tables" / "per_class.csv").is_file() and (run / "tables" / "layer_separability.csv").is_file()


def test_classify_chosen_layers(cli, tmp_path):
    code, _, err = cli("run", "classify", "epochs=2", "hidden=[32,16,8]", "layers=[fc2,act3]", "--out", "c")
    assert code == 0, err
    m = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert list(m["layer_knn_accuracy"]) == ["input", "fc2", "act3"]
    layers = np.load(tmp_path / "c" / "arrays" / "layers.npz")
    assert layers["z_fc2"].shape == (360, 2)


def test_classify_unknown_layer_is_one_line_exit_2_before_training(cli, tmp_path):
    code, out, err = cli("run", "classify", "layers=[act1,act9]", "--out", "bad")
    assert code == 2
    assert "layer 'act9' does not exist" in err and "act1, act2" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad").exists()  # nothing trained, nothing left behind


@pytest.mark.slow
def test_classify_default_reaches_target_on_real_mnist(cli, tmp_path, mnist_dir):
    code, _, err = cli("run", "classify", "dataset=mnist", f"data_dir={mnist_dir}", "--out", "c")
    assert code == 0, err
    m = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert m["test_accuracy"] >= 0.985
    depth = m["layer_knn_accuracy"]
    assert depth["input"] < depth["act1"] < depth["act2"]
