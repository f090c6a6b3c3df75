"""What the dreams tests share: a check that a dreams run folder reproduces its own reported numbers."""

import json

import numpy as np
import pytest
import torch

from mlplab.train import load_model


def _check_run_folder(path) -> dict:
    """Arrays and the saved classifier reproduce the reported confidences; weights were not touched."""
    m = json.loads((path / "metrics.json").read_text())
    assert m["weights_unchanged"] is True and m["trainable_parameters"] == 0
    model = load_model(path / "checkpoints" / "classifier.pt").eval()
    a = np.load(path / "arrays" / "dreams.npz")
    images = torch.from_numpy(a["images"])
    assert images.min() >= 0 and images.max() <= 1
    mean, std = torch.from_numpy(a["norm_mean"]).float(), torch.from_numpy(a["norm_std"]).float()
    with torch.no_grad():
        probs = model((images - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)).softmax(1)
    targets = a["targets"]
    reported = [m["dreams_confidence"][str(a["classes"][t])] for t in targets]
    np.testing.assert_allclose(probs[np.arange(len(targets)), targets].numpy(), reported, atol=1e-5)
    np.testing.assert_allclose(a["confidences"][-1], reported, atol=1e-5)  # the last step is the final image
    assert a["confidences"].shape == (m["dreams_steps"] + 1, len(targets))
    return m


@pytest.fixture
def check_run_folder():
    return _check_run_folder
