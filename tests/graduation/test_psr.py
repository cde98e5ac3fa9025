"""The probabilistic Sharpe ratio against values worked out by hand.

Each series is a repeated pattern, so its moments are those of a simple discrete distribution
and can be written down exactly; the expected PSR follows from the formula of Bailey and
López de Prado, PSR = Φ((SR − SR*)·√(n − 1) / √(1 − g3·SR + (g4 − 1)/4·SR²)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradeplay.graduation.psr import probabilistic_sharpe, sharpe_estimate


def series(pattern: list[float], repeats: int) -> np.ndarray:
    return np.array(pattern * repeats, dtype=np.float64)


def test_a_symmetric_two_point_series_has_no_skew_and_kurtosis_one() -> None:
    """0.02, 0.00 alternating, n = 100: mean 0.01, population variance 1e-4, so the sample
    standard deviation is 0.01·√(100/99) and SR = √(99/100) = 0.994987; g3 = 0, g4 = 1, the
    denominator is 1. Against a per-period benchmark of 0.9 (annual 0.9·√365):
    z = (0.994987 − 0.9)·√99 = 0.945113, Φ(z) = 0.827699."""
    returns = series([0.02, 0.0], 50)
    estimate = sharpe_estimate(returns)
    assert estimate is not None
    assert estimate.sharpe == pytest.approx(math.sqrt(0.99), abs=1e-12)
    assert estimate.skewness == pytest.approx(0.0, abs=1e-9)
    assert estimate.kurtosis == pytest.approx(1.0, abs=1e-9)
    psr = probabilistic_sharpe(returns, benchmark_annual=0.9 * math.sqrt(365), periods_per_year=365)
    assert psr == pytest.approx(0.827699, abs=1e-6)


def test_right_skew_earns_more_confidence_than_a_normal_record() -> None:
    """0.04, −0.01, −0.01, −0.01 (a Bernoulli of p = 1/4 scaled), n = 40: mean 0.0025,
    population variance 0.00046875, SR = 0.0025 / √(0.00046875·40/39) = 0.114018;
    g3 = (1 − 2p)/√(p(1 − p)) = 2/√3 = 1.154701, g4 = 3 + (1 − 6p(1 − p))/(p(1 − p)) = 7/3.
    Denominator² = 1 − 1.154701·0.114018 + (4/3)/4·0.114018² = 0.872677;
    z = 0.114018·√39 / √0.872677 = 0.762214, PSR(0) = Φ(z) = 0.777034 — above the 0.761780
    a normal record of the same Sharpe ratio would get."""
    returns = series([0.04, -0.01, -0.01, -0.01], 10)
    estimate = sharpe_estimate(returns)
    assert estimate is not None
    assert estimate.sharpe == pytest.approx(0.114018, abs=1e-6)
    assert estimate.skewness == pytest.approx(2 / math.sqrt(3), abs=1e-9)
    assert estimate.kurtosis == pytest.approx(7 / 3, abs=1e-9)
    assert probabilistic_sharpe(returns) == pytest.approx(0.777034, abs=1e-6)
    # Against an annual Sharpe of 1 on daily returns: SR* = 1/√365 = 0.052342,
    # z = (0.114018 − 0.052342)·√39 / √0.872677 = 0.412337, Φ(z) = 0.659941.
    assert probabilistic_sharpe(returns, 1.0, 365) == pytest.approx(0.659941, abs=1e-6)


def test_left_skew_earns_less_confidence_than_a_normal_record() -> None:
    """0.01, 0.01, 0.01, −0.02, n = 40: mean 0.0025, population variance 0.00016875,
    SR = 0.190029, g3 = −2/√3, g4 = 7/3. Denominator² = 1 + 1.154701·0.190029 +
    (1/3)·0.190029² = 1.231464; z = 0.190029·√39 / √1.231464 = 1.069404, PSR(0) = 0.857556,
    below the normal record's 0.882333."""
    returns = series([0.01, 0.01, 0.01, -0.02], 10)
    assert probabilistic_sharpe(returns) == pytest.approx(0.857556, abs=1e-6)


def test_the_same_sharpe_ratio_is_surer_on_a_longer_record() -> None:
    short = probabilistic_sharpe(series([0.04, -0.01, -0.01, -0.01], 10))
    long = probabilistic_sharpe(series([0.04, -0.01, -0.01, -0.01], 40))
    assert short is not None
    assert long is not None
    assert long > short


@pytest.mark.parametrize(
    "returns",
    [np.array([0.01, 0.02]), np.full(30, 0.001), np.empty(0)],
    ids=["two returns", "constant", "none"],
)
def test_no_psr_without_enough_varying_returns(returns: np.ndarray) -> None:
    assert probabilistic_sharpe(returns) is None
