"""`import mlplab.nn` registers every model: a fresh interpreter rebuilds a checkpoint of each registered class
without importing mlplab.experiments."""

import subprocess
import sys
import textwrap

import torch

from mlplab.nn import GAN, MODEL_CLASSES, ConvAutoencoder, MLPAutoencoder, MLPClassifier, OneVsRestMLP, SmallCNN
from mlplab.train.checkpoint import save_model

EXAMPLES = {  # one small instance of every registered class, and an input it takes
    "MLPClassifier": (lambda: MLPClassifier(64, [16], 10), (3, 1, 8, 8)),
    "SmallCNN": (lambda: SmallCNN(1, 8, 10, [4, 8], 16), (3, 1, 8, 8)),
    "OneVsRestMLP": (lambda: OneVsRestMLP(64, [16], [2, 5]), (3, 1, 8, 8)),
    "MLPAutoencoder": (lambda: MLPAutoencoder(64, [16], 4, [16], l1=0.1), (3, 1, 8, 8)),
    "ConvAutoencoder": (lambda: ConvAutoencoder(1, 8, [4, 4], "both"), (3, 1, 8, 8)),
    "GAN": (lambda: GAN([1, 8, 8], [16, 8], latent=5), (3, 5)),  # its output: images sampled from noise
}


def output(model, x):
    """What the model makes of x: a GAN samples images from noise x, every other model is called on x."""
    return model.sample(x) if hasattr(model, "sample") else model(x)


CHILD = textwrap.dedent("""
    import sys, torch
    from mlplab.train.checkpoint import load_model
    for path in sys.argv[1:]:
        model = load_model(path)
        x = torch.load(path + ".x", weights_only=True)
        with torch.no_grad():
            torch.save(model.sample(x) if hasattr(model, "sample") else model(x), path + ".out")
    assert not any(m.startswith("mlplab.experiments") for m in sys.modules), "experiments were imported"
""")


def test_every_registered_model_rebuilds_in_a_fresh_interpreter(tmp_path):
    assert set(MODEL_CLASSES.names()) == set(EXAMPLES), "add an example of every registered model here"
    torch.manual_seed(0)
    paths, expected = [], {}
    for name, (build, shape) in EXAMPLES.items():
        model = build().eval()
        x = torch.rand(shape)
        path = str(tmp_path / f"{name}.pt")
        save_model(model, path)
        torch.save(x, path + ".x")
        with torch.no_grad():
            expected[path] = output(model, x)
        paths.append(path)
    done = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for path in paths:
        torch.testing.assert_close(torch.load(path + ".out", weights_only=True), expected[path], rtol=0, atol=0)


def test_batched_inference_equals_one_pass_in_eval_mode():
    torch.manual_seed(1)
    x = torch.rand(10, 1, 8, 8)
    cls = MLPClassifier(64, [16], 10, dropout=0.5)  # in train mode: predict must switch dropout off
    with torch.no_grad():
        torch.testing.assert_close(cls.predict(x, batch_size=3), cls.eval()(x).softmax(1))
    cls.train()
    cls.predict(x)
    assert cls.training, "predict restores the previous mode"
    ae = MLPAutoencoder(64, [16], 4, [16])
    with torch.no_grad():
        torch.testing.assert_close(ae.encode(x, batch_size=4), ae.code(x))
        torch.testing.assert_close(ae.reconstruct(x, batch_size=4), ae(x))
    ovr = OneVsRestMLP(64, [16], [2, 5])
    with torch.no_grad():
        torch.testing.assert_close(ovr.predict(x, batch_size=7), ovr(x).sigmoid())
