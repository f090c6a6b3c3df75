"""Every model; each owns its loss (or, the GAN, its training step) and its batched inference. Importing this
package registers every model class, so `build_model(spec)` (and so `train.load_model`) can rebuild any checkpoint."""

from mlplab.nn.autoencoders import MLPAutoencoder
from mlplab.nn.cnn import SmallCNN
from mlplab.nn.conv_autoencoders import ConvAutoencoder
from mlplab.nn.gan import GAN
from mlplab.nn.mlp import ACTIVATIONS, MLPClassifier, mlp_layers
from mlplab.nn.one_vs_rest import OneVsRestMLP
from mlplab.nn.per_example import PerExample
from mlplab.nn.registry import MODEL_CLASSES, build_model, register_model

__all__ = [
    "ACTIVATIONS",
    "GAN",
    "MODEL_CLASSES",
    "ConvAutoencoder",
    "MLPAutoencoder",
    "MLPClassifier",
    "OneVsRestMLP",
    "PerExample",
    "SmallCNN",
    "build_model",
    "mlp_layers",
    "register_model",
]
