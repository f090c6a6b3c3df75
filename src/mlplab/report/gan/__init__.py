"""The GAN experiment: a generator for one class, judged by an independent CNN."""
