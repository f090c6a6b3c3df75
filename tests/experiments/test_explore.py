"""explore: PCA against scikit-learn, [-1, 1] normalisation, kNN separability, the run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from mlplab.analysis.pca import fit_pca
from mlplab.analysis.separability import knn_separability
from mlplab.data import Normalization, load_dataset
from mlplab.errors import UserError
from mlplab.runs import Run


def assert_pca_matches_sklearn(x: np.ndarray, k: int) -> None:
    ours = fit_pca(torch.from_numpy(x), k)
    ref = SkPCA(n_components=k, svd_solver="full").fit(x)
    # the same direction up to sign: |<ours_i, ref_i>| = 1 for unit vectors
    cosines = np.abs(np.sum(ours.components.numpy() * ref.components_, axis=1))
    np.testing.assert_allclose(cosines, 1.0, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance.numpy(), ref.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(ours.explained_variance_ratio.numpy(), ref.explained_variance_ratio_, rtol=1e-4)
    z_ours = ours.transform(torch.from_numpy(x)).numpy()
    z_ref = ref.transform(x)
    np.testing.assert_allclose(np.abs(z_ours), np.abs(z_ref), atol=1e-6 * np.abs(z_ref).max())


def test_pca_matches_sklearn_on_digits():
    x = load_digits().data.astype(np.float64) / 16.0  # (1797, 64); the last components have zero variance
    assert_pca_matches_sklearn(x, 40)


def test_pca_matches_sklearn_on_correlated_gaussians():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(30, 30)) * np.linspace(3, 0.1, 30)[:, None]
    x = rng.normal(size=(500, 30)) @ mixing + 5.0
    assert_pca_matches_sklearn(x, 30)


def test_pca_on_real_mnist_matches_sklearn_and_known_reconstruction_error(mnist_dir):
    ds = load_dataset("mnist", data_dir=mnist_dir, normalization="unit", val_size=0)
    train, test = ds.train.x.flatten(1), ds.test.x.flatten(1)  # pixels in [0, 1]
    pca = fit_pca(train, 30)
    mse = float(((pca.reconstruct(test) - test.double()) ** 2).mean())
    assert mse == pytest.approx(0.01769, abs=5e-5)  # the published figure (Hinton & Salakhutdinov, 2006)
    assert_pca_matches_sklearn(train[:5000].double().numpy(), 20)


def test_minus_one_one_maps_pixel_range_onto_minus_one_to_one():
    norm = Normalization.fit("minus_one_one", torch.rand(10, 1, 4, 4))
    pixels = torch.tensor([0.0, 0.25, 0.5, 1.0]).view(1, 1, 2, 2)
    np.testing.assert_allclose(norm.apply(pixels).flatten().numpy(), [-1.0, -0.5, 0.0, 1.0])
    np.testing.assert_allclose(norm.invert(norm.apply(pixels)).numpy(), pixels.numpy())


def test_minus_one_one_bounds_on_a_dataset():
    ds = load_dataset("digits", normalization="minus_one_one")
    for split in (ds.train, ds.val, ds.test):
        assert split.x.min() >= -1.0 and split.x.max() <= 1.0
    assert ds.train.x.min() == -1.0 and ds.train.x.max() == 1.0  # blank and full-ink pixels exist


def test_minus_one_one_bounds_on_real_mnist(mnist_dir):
    ds = load_dataset("mnist", data_dir=mnist_dir, normalization="minus_one_one")
    assert float(ds.train.x.min()) == -1.0 and float(ds.train.x.max()) == 1.0
    assert float(ds.test.x.min()) == -1.0 and float(ds.test.x.max()) == 1.0


def test_knn_separability_matches_sklearn_leave_one_out():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(0, 1, (60, 2)), rng.normal(1.5, 1, (60, 2))])
    y = np.repeat([0, 1], 60)
    ours = knn_separability(torch.from_numpy(z), torch.from_numpy(y), 2, k=5)
    pred = cross_val_predict(KNeighborsClassifier(n_neighbors=5), z, y, cv=LeaveOneOut())
    for c in (0, 1):
        assert float(ours.per_class[c]) == pytest.approx(np.mean(pred[y == c] == c))
    assert ours.accuracy == pytest.approx(np.mean(pred == y))


def test_knn_separability_of_far_apart_and_of_identical_classes():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g)
    y = torch.cat([torch.zeros(200), torch.ones(200)]).long()
    assert knn_separability(torch.cat([a, b + 50]), y, 2).accuracy == 1.0
    assert 0.3 < knn_separability(torch.cat([a, b]), y, 2).accuracy < 0.7  # same distribution: chance
    with pytest.raises(UserError, match="at least two classes"):
        knn_separability(a, torch.zeros(200).long(), 2)


def test_explore_run_end_to_end(cli, tmp_path):
    code, out, err = cli("run", "explore", "normalization=minus_one_one", "--out", "e")
    assert code == 0, err
    run = tmp_path / "e"
    m = json.loads((run / "metrics.json").read_text())
    assert (m["raw_min"], m["raw_max"]) == (pytest.approx(0.0, abs=1e-6), pytest.approx(1.0, abs=1e-6))
    assert (m["normalized_min"], m["normalized_max"]) == (-1.0, 1.0)
    assert m["raw_shape"] == [1437, 1, 8, 8] and m["raw_dtype"] == "float32"
    ds = load_dataset("digits")
    assert m["class_counts"] == {c: int((ds.train.y == i).sum()) for i, c in enumerate(ds.classes)}
    assert len(m["pca_explained_variance_ratio_top10"]) == 10
    assert set(m["knn_accuracy_2d_per_class"]) == set(ds.classes)
    # the metric is recomputable from the saved projection
    p = np.load(run / "arrays" / "projection.npz")
    again = knn_separability(torch.from_numpy(p["z"]), torch.from_numpy(p["y"]), 10, k=m["knn_k"])
    assert again.accuracy == pytest.approx(m["knn_accuracy_2d"])
    from mlplab.report import findings_for

    assert any("not separated" in f.text for f in findings_for(Run.open(run)))
    for fig in (
        "examples",
        "pca_components",
        "pca_explained_variance",
        "pca_projection",
        "pca_separability",
        "class_counts",
        "value_histograms",
    ):
        assert (run / "figures" / f"{fig}.png").is_file(), fig
    assert np.load(run / "arrays" / "pca.npz")["components"].shape == (10, 1, 8, 8)


def test_explore_real_mnist_statistics(cli, tmp_path, mnist_dir):
    code, _, err = cli("run", "explore", "dataset=mnist", f"data_dir={mnist_dir}", "--out", "e")
    assert code == 0, err
    m = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert m["raw_shape"] == [60000, 1, 28, 28]
    assert m["raw_mean"] * 255 == pytest.approx(33.318421, abs=1e-4)  # the known MNIST training-pixel mean
    assert (m["normalized_mean"], m["normalized_std"]) == (pytest.approx(0, abs=1e-5), pytest.approx(1, abs=1e-5))
    assert sum(m["class_counts"].values()) == 55000  # the training split; 5000 are held out for validation
    assert m["knn_accuracy_2d_per_class"]["one"] > 0.9  # 1s stand apart on the first two components


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["classes=[3]"], "at least two classes"),
        (["classes=[3,3]"], "at least two classes"),
        (["classes=[2,12]"], "not a class"),
        (["dataset=moons"], "image dataset"),
        (["per_class=0"], "per_class"),
    ],
)
def test_explore_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    code, out, err = cli("run", "explore", *args, "--out", "bad")
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad" / "metrics.json").exists()
