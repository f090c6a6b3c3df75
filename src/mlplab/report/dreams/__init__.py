"""The dreams experiment: what a frozen classifier would see."""
