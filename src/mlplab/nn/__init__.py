"""Models: MLPs, autoencoders, the CNN judge and the GAN; each model owns its loss (or, the GAN, its training step)."""
from mlplab.nn.mlp import ACTIVATIONS, MODEL_CLASSES, MLPClassifier, build_model, mlp_layers, register_model
from mlplab.nn.cnn import SmallCNN  # registers the judge's class for build_model
from mlplab.nn.gan import GAN

__all__ = ["ACTIVATIONS", "MODEL_CLASSES", "MLPClassifier", "SmallCNN", "GAN", "build_model", "mlp_layers", "register_model"]
