"""Candles and FundingRates: shape, dtypes, immutability, range selection."""

from __future__ import annotations

import numpy as np
import pytest

from tests.data.factories import JAN_1_2024, MINUTE, funding_every_8h, ramp_candles
from tradeplay.data.candles import Candles, FundingRates


def test_columns_are_coerced_to_contiguous_int64_and_float64_arrays() -> None:
    candles = Candles.from_columns(
        ts=[1, 2], open=[1, 2], high=np.array([3, 4], dtype=np.float32), low=[0, 1],
        close=[2, 3], volume=[5, 6],
    )  # fmt: skip

    assert candles.ts.dtype == np.int64
    for name in ("open", "high", "low", "close", "volume"):
        column = getattr(candles, name)
        assert column.dtype == np.float64
        assert column.flags["C_CONTIGUOUS"]


def test_strided_input_becomes_contiguous() -> None:
    wide = np.arange(20, dtype=np.float64)[::2]
    candles = Candles(np.arange(10, dtype=np.int64), wide, wide, wide, wide, wide)

    assert candles.close.flags["C_CONTIGUOUS"]
    assert np.array_equal(candles.close, wide)


def test_arrays_are_read_only_but_the_callers_arrays_stay_writable() -> None:
    mine = np.arange(3, dtype=np.float64)
    candles = Candles(np.arange(3, dtype=np.int64), mine, mine, mine, mine, mine)

    with pytest.raises(ValueError, match="read-only"):
        candles.close[0] = 1.0
    mine[0] = 42.0  # still allowed: the series holds a frozen view, not the caller's flags
    assert candles.close[0] == 42.0  # no copy was made


def test_float_timestamps_are_refused_instead_of_truncated() -> None:
    with pytest.raises(ValueError, match="integer milliseconds"):
        Candles.from_columns(ts=[1.5], open=[1], high=[1], low=[1], close=[1], volume=[1])


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Candles.from_columns(ts=[1, 2], open=[1], high=[1], low=[1], close=[1], volume=[1])


def test_between_includes_the_start_and_excludes_the_end() -> None:
    candles = ramp_candles(10)

    window = candles.between(JAN_1_2024 + 2 * MINUTE, JAN_1_2024 + 5 * MINUTE)

    assert window.ts.tolist() == [JAN_1_2024 + k * MINUTE for k in (2, 3, 4)]
    assert window.open.tolist() == [102.0, 103.0, 104.0]


def test_between_with_open_ends_and_times_between_bars() -> None:
    candles = ramp_candles(10)

    assert len(candles.between(None, None)) == 10
    assert len(candles.between(JAN_1_2024 + 7 * MINUTE + 1, None)) == 2
    assert len(candles.between(None, JAN_1_2024 + 1)) == 1
    assert len(candles.between(JAN_1_2024 + 9 * MINUTE, JAN_1_2024)) == 0  # inverted: empty


def test_between_returns_a_view_not_a_copy() -> None:
    candles = ramp_candles(10)

    window = candles.between(JAN_1_2024 + MINUTE, None)

    assert np.shares_memory(window.close, candles.close)


def test_concat_joins_in_the_given_order_and_empty_is_neutral() -> None:
    whole = ramp_candles(5)

    joined = Candles.concat([whole[:3], Candles.empty(), whole[3:]])

    assert joined == whole
    assert Candles.concat([]) == Candles.empty()
    assert Candles.empty().ts.dtype == np.int64


def test_equality_is_exact_and_by_value() -> None:
    assert ramp_candles(4) == ramp_candles(4)
    assert ramp_candles(4) != ramp_candles(4, start_price=100.5)
    assert ramp_candles(4) != ramp_candles(5)


def test_series_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(ramp_candles(1))


def test_slicing_and_first_last() -> None:
    candles = ramp_candles(5)

    assert candles[-2:].open.tolist() == [103.0, 104.0]
    assert candles.first_ms == JAN_1_2024
    assert candles.last_ms == JAN_1_2024 + 4 * MINUTE
    assert Candles.empty().first_ms is None


def test_funding_rates_offer_the_same_helpers() -> None:
    rates = funding_every_8h(6)

    assert len(rates) == 6
    assert rates.ts.dtype == np.int64
    assert rates.rate.dtype == np.float64
    assert len(rates.between(rates.ts[1], rates.ts[3])) == 2
    assert FundingRates.concat([rates[:2], rates[2:]]) == rates
    assert len(FundingRates.empty()) == 0
    assert rates.last_ms == int(rates.ts[-1])
