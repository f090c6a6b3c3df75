"""The GAN family: `gan` (one chosen class, an MLP generator that mirrors its discriminator)."""

from mlplab.experiments.gan import gan  # noqa: F401  (registers the experiment)
