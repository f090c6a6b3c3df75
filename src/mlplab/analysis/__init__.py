"""Analysis: PCA, metrics, activation hooks, judge models."""
