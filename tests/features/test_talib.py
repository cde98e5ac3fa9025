"""Every feature that TA-Lib also computes matches TA-Lib to 1e-9 relative after its warm-up.

Cases live beside the kernel modules' tests (``cases_*.py``); this module runs them all on
several real series (hourly BTC, 5-minute ETH, 1-minute SOL). For outputs that cross zero
(MACD, momentum …) "relative" is taken against the series' mean magnitude, since a relative error
at an exact zero crossing has no meaning.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.features import (
    cases_averages,
    cases_momentum,
    cases_trend,
    cases_volatility,
    cases_volume,
)
from tests.features.oracle import Case
from tradeplay.features import REGISTRY, Feature

CASES: list[Case] = [
    *cases_averages.CASES,
    *cases_momentum.CASES,
    *cases_volatility.CASES,
    *cases_trend.CASES,
    *cases_volume.CASES,
]
SERIES = ("btc_1h", "eth_5m", "sol_1m")
RTOL = 1e-9


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_matches_talib_after_warmup(
    case: Case, series: str, request: pytest.FixtureRequest
) -> None:
    bars: NDArray[np.float64] = request.getfixturevalue(series)
    feature = Feature.of(case.kind, case.params)
    ours = feature.batch(bars)
    theirs = case.call(bars)
    start = feature.warmup
    for name, index in case.outputs.items():
        mine = ours[:, feature.outputs.index(name)]
        reference = theirs[index]
        assert np.isnan(mine[:start]).all(), f"{name}: a value before the warm-up"
        assert not np.isnan(reference[start:]).any(), f"{name}: TA-Lib warms up later than we say"
        scale = float(np.mean(np.abs(reference[start:])))
        np.testing.assert_allclose(
            mine[start:], reference[start:], rtol=RTOL, atol=RTOL * scale, err_msg=name
        )


def test_every_feature_that_names_a_talib_oracle_has_a_case() -> None:
    covered = {case.kind for case in CASES}
    claimed = {kind for kind in REGISTRY.kinds() if REGISTRY.get(kind).talib}
    assert claimed <= covered, sorted(claimed - covered)
