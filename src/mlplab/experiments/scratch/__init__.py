"""Experiments with the from-scratch NumPy engine: gradcheck, moons, scratch-mnist."""
