"""Numbers that the analysis, the experiments and the report share. It imports nothing, so that report/ can
use them without importing torch (the modules that define the computations import them from here)."""

# scratch engine against torch (scratch_vs_torch): largest relative error of a hand-written gradient against
# torch.autograd, and of the twin run's losses against torch.nn's
AUTOGRAD_PASS, TWIN_PASS = 1e-7, 1e-6

# the judge recognises a dream when it gives the dream's target class at least this probability
RECOGNISED = 0.5

# the three narrow wells of the optimizers' "steep-optima" surface (surfaces.steep_optima)
STEEP_OPTIMA = ((1.0, -0.5), (-1.0, 0.5), (-0.5, -0.8))
