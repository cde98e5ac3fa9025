"""The probabilistic Sharpe ratio: how sure a Sharpe ratio measured on a short record is.

Bailey and López de Prado (2012), *The Sharpe Ratio Efficient Frontier*: given ``n`` returns
with Sharpe ratio ``SR`` (per period, not annualised), skewness ``g3`` and kurtosis ``g4``
(3 for a normal distribution), the probability that the true Sharpe ratio exceeds a benchmark
``SR*`` is

    PSR(SR*) = Φ( (SR − SR*) · √(n − 1) / √(1 − g3·SR + (g4 − 1)/4 · SR²) )

where Φ is the standard normal distribution function. A record that is short, negatively
skewed or fat-tailed earns less confidence than its Sharpe ratio alone suggests.

Conventions (stated because estimators differ between libraries): ``SR`` is the mean over the
standard deviation with ``n − 1`` in the denominator, as the reports' Sharpe ratio is before it
is annualised; skewness and kurtosis are the population (biased) moments ``m3 / m2^1.5`` and
``m4 / m2²``. The benchmark is given annualised, as traders state Sharpe ratios, and brought to
the returns' period with ``√periods_per_year``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

import numpy as np
from numpy.typing import NDArray

__all__ = ["SharpeEstimate", "probabilistic_sharpe", "psr", "sharpe_estimate"]

MIN_RETURNS: Final = 3
"""Fewer returns than this tell nothing about skew: no estimate."""

_STANDARD_NORMAL: Final = NormalDist()


@dataclass(frozen=True, slots=True)
class SharpeEstimate:
    """The sample statistics a PSR is computed from (per period)."""

    n: int
    sharpe: float
    skewness: float
    kurtosis: float


def sharpe_estimate(returns: NDArray[np.float64]) -> SharpeEstimate | None:
    """Per-period Sharpe ratio, skewness and kurtosis of ``returns``; ``None`` when there are
    fewer than :data:`MIN_RETURNS` or they do not vary (a Sharpe ratio is then undefined)."""
    n = len(returns)
    if n < MIN_RETURNS:
        return None
    mean = float(np.mean(returns))
    deviations = returns - mean
    m2 = float(np.mean(deviations**2))
    if m2 <= (1e-12 * abs(mean)) ** 2 or m2 == 0.0:  # constant up to float noise
        return None
    std = math.sqrt(m2 * n / (n - 1))
    return SharpeEstimate(
        n=n,
        sharpe=mean / std,
        skewness=float(np.mean(deviations**3)) / m2**1.5,
        kurtosis=float(np.mean(deviations**4)) / m2**2,
    )


def probabilistic_sharpe(
    returns: NDArray[np.float64],
    benchmark_annual: float = 0.0,
    periods_per_year: float = 365.0,
) -> float | None:
    """PSR of ``returns`` against an annualised benchmark Sharpe ratio: a probability in
    [0, 1]; ``None`` when the returns are too few or do not vary."""
    estimate = sharpe_estimate(returns)
    return None if estimate is None else psr(estimate, benchmark_annual, periods_per_year)


def psr(estimate: SharpeEstimate, benchmark_annual: float, periods_per_year: float) -> float:
    """PSR of an estimate already made (see :func:`probabilistic_sharpe`)."""
    benchmark = benchmark_annual / math.sqrt(periods_per_year)
    sharpe = estimate.sharpe
    variance = 1.0 - estimate.skewness * sharpe + (estimate.kurtosis - 1.0) / 4.0 * sharpe**2
    # Never negative for real moments (kurtosis ≥ 1 + skewness²); zero only for a degenerate
    # two-value sample at one exact Sharpe ratio, where nothing is uncertain.
    if variance <= 0.0:
        return 1.0 if sharpe > benchmark else 0.0
    z = (sharpe - benchmark) * math.sqrt(estimate.n - 1) / math.sqrt(variance)
    return _STANDARD_NORMAL.cdf(z)
