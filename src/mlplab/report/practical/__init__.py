"""The practical's experiments: optimizers, mlp-protocol, mlp-improve, pixel-shuffle."""
