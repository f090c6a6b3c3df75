"""Mean, spread and a 95% interval of a number measured over several seeds (one place for every table)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    """mean ± std (sample, ddof=1) over n seeds, and the 95% Student-t interval of the mean."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}

    def text(self, spec: str = ".4g") -> str:
        """ "mean ± std (95% CI low–high, n=N)", each number formatted by `spec` (".2%": percentages)."""
        m, s, lo, hi = (format(v, spec) for v in (self.mean, self.std, self.ci_low, self.ci_high))
        return f"{m} ± {s} (95% CI {lo}–{hi}, n={self.n})"


def spread(values: Iterable[float], confidence: float = 0.95) -> Spread:
    """Summary of finite values; one value gives std 0 and a degenerate interval, none gives NaNs."""
    x = np.asarray([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)
    if len(x) == 0:
        nan = float("nan")
        return Spread(nan, nan, nan, nan, 0)
    mean = float(x.mean())
    if len(x) == 1:
        return Spread(mean, 0.0, mean, mean, 1)
    std = float(x.std(ddof=1))
    sem = std / math.sqrt(len(x))
    if sem == 0:
        return Spread(mean, std, mean, mean, len(x))
    from scipy import stats  # imported here: SciPy takes most of a second to load, and most runs never need it

    low, high = stats.t.interval(confidence, df=len(x) - 1, loc=mean, scale=sem)
    return Spread(mean, std, float(low), float(high), len(x))


def beyond_noise(a: Spread, b: Spread) -> bool:
    """True when the 95% intervals of two means do not overlap (a conservative 'it really differs')."""
    return a.n > 1 and b.n > 1 and (a.ci_low > b.ci_high or b.ci_low > a.ci_high)
