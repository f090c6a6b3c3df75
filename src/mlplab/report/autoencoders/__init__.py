"""The autoencoder experiments: ae-pca, ae-undercomplete, ae-sparse, ae-denoising, ae-manifold, ae-conv, ae-ood."""
