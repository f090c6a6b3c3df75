"""spread() against numpy and scipy computed here independently."""

import math

import numpy as np
from scipy import stats

from mlplab.analysis.spread import beyond_noise, spread


def test_spread_matches_numpy_and_student_t():
    values = [0.91, 0.905, 0.918, 0.9]
    s = spread(values)
    assert s.n == 4
    assert math.isclose(s.mean, np.mean(values))
    assert math.isclose(s.std, np.std(values, ddof=1))
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert math.isclose(s.ci_low, np.mean(values) - half) and math.isclose(s.ci_high, np.mean(values) + half)


def test_spread_of_one_value_none_and_nans():
    assert spread([0.5]).std == 0 and spread([0.5]).ci_low == 0.5
    assert spread([]).n == 0 and math.isnan(spread([]).mean)
    assert spread([1.0, float("nan"), 3.0]).n == 2


def test_beyond_noise():
    assert beyond_noise(spread([0.9, 0.91, 0.905]), spread([0.8, 0.81, 0.805]))
    assert not beyond_noise(spread([0.9, 0.95, 0.85]), spread([0.9, 0.91, 0.89]))
