"""The scratch engine's experiments: gradcheck, moons, scratch-mnist."""
