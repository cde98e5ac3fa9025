"""Validation rules: each names its rule, the first offending 1-based row, and the values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.data.factories import (
    JAN_1_2024,
    MINUTE,
    funding_every_8h,
    ramp_candles,
    read_real_candles,
)
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.validation import validate_candles, validate_funding
from tradeplay.domain.errors import DataValidationError
from tradeplay.domain.timeframe import Timeframe

ONE_MINUTE = Timeframe.parse("1m")


def _with(candles: Candles, row: int, **values: float) -> Candles:
    """A copy of ``candles`` with some values of the 0-based ``row`` replaced."""
    columns = {name: array.copy() for name, array in candles.columns().items()}
    for name, value in values.items():
        columns[name][row] = value
    return Candles.from_columns(**columns)


def _error(
    candles: Candles, timeframe: Timeframe = ONE_MINUTE, **kwargs: int
) -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        validate_candles(candles, timeframe, "btc.csv", **kwargs)
    return caught.value


def test_a_clean_series_and_an_empty_one_pass() -> None:
    validate_candles(ramp_candles(1000), ONE_MINUTE, "ramp")
    validate_candles(Candles.empty(), ONE_MINUTE, "empty")


def test_high_below_open_or_close_is_reported_with_the_values() -> None:
    candles = _with(ramp_candles(5), 2, open=100.0, close=101.0, high=99.5, low=99.0)

    error = _error(candles)

    assert error.rule == "high_ge_open_close"
    assert error.row == 3
    assert error.detail == "high 99.5 is below max(open 100.0, close 101.0) at 2024-01-01T00:02:00Z"
    assert str(error) == (
        "btc.csv, row 3: rule 'high_ge_open_close' failed: "
        "high 99.5 is below max(open 100.0, close 101.0) at 2024-01-01T00:02:00Z"
    )


def test_low_above_open_or_close_is_reported() -> None:
    error = _error(_with(ramp_candles(5), 4, low=104.5))

    assert (error.rule, error.row) == ("low_le_open_close", 5)
    assert error.detail.startswith("low 104.5 is above min(open 104.0, close 105.0)")


def test_high_below_low_is_named_before_the_open_close_rules() -> None:
    error = _error(_with(ramp_candles(5), 1, high=100.0, low=102.0))

    assert (error.rule, error.row) == ("high_ge_low", 2)
    assert error.detail.startswith("high 100.0 is below low 102.0")


@pytest.mark.parametrize("column", ["open", "high", "low", "close", "volume"])
def test_nan_is_reported_naming_the_column(column: str) -> None:
    error = _error(_with(ramp_candles(5), 3, **{column: np.nan}))

    assert (error.rule, error.row) == ("no_nan", 4)
    assert error.detail.startswith(f"{column} is nan, expected a finite number")


def test_infinity_counts_as_not_a_number() -> None:
    error = _error(_with(ramp_candles(5), 0, high=np.inf))

    assert (error.rule, error.row, error.detail[:11]) == ("no_nan", 1, "high is inf")


def test_non_positive_prices_are_refused() -> None:
    error = _error(_with(ramp_candles(5), 1, low=0.0))

    assert (error.rule, error.row) == ("positive_prices", 2)
    assert error.detail.startswith("low 0.0 is not positive")


def test_negative_volume_is_refused_but_zero_volume_is_fine() -> None:
    validate_candles(_with(ramp_candles(5), 1, volume=0.0), ONE_MINUTE, "quiet")

    error = _error(_with(ramp_candles(5), 1, volume=-2.0))

    assert (error.rule, error.row) == ("volume_non_negative", 2)
    assert error.detail.startswith("volume -2.0 is negative")


def test_duplicate_timestamps_are_named_distinctly_from_disorder() -> None:
    ts = ramp_candles(5).ts.copy()
    ts[3] = ts[2]
    duplicated = Candles(ts, *list(ramp_candles(5).columns().values())[1:])

    error = _error(duplicated)

    assert (error.rule, error.row) == ("timestamps_unique", 4)
    assert (
        error.detail
        == "ts 1704067320000 (2024-01-01T00:02:00Z) repeats the previous row's timestamp"
    )


def test_unsorted_rows_fail_at_the_first_row_out_of_order() -> None:
    candles = ramp_candles(6)
    order = np.array([0, 1, 3, 2, 4, 5])

    error = _error(candles.take(order))

    assert (error.rule, error.row) == ("timestamps_increasing", 4)
    assert "is before the previous row's ts 1704067380000 (2024-01-01T00:03:00Z)" in error.detail


def test_open_times_off_the_timeframe_grid_are_refused() -> None:
    candles = ramp_candles(4, timeframe="1h")

    error = _error(candles, Timeframe.parse("4h"))

    assert (error.rule, error.row) == ("aligned_to_timeframe", 2)
    assert error.detail == (
        "ts 1704070800000 (2024-01-01T01:00:00Z) is not on a 4h boundary "
        "(bars open at multiples of 4h)"
    )


def test_the_earliest_row_wins_over_the_rule_order() -> None:
    # Row 5 has a NaN (first rule in order), row 2 a negative volume (last rule): row 2 wins,
    # because a trader fixes a file from the top.
    candles = _with(_with(ramp_candles(6), 4, close=np.nan), 1, volume=-1.0)

    assert (_error(candles).rule, _error(candles).row) == ("volume_non_negative", 2)


def test_row_offset_shifts_the_reported_row_for_a_chunk_of_a_file() -> None:
    error = _error(_with(ramp_candles(5), 0, volume=-1.0), row_offset=1000)

    assert error.row == 1001


def test_the_real_shared_candle_files_pass(shared_data: Path) -> None:
    for name, timeframe in [("binance_BTCUSDT_1m", "1m"), ("binancespot_BTCUSDT_1h", "1h")]:
        validate_candles(read_real_candles(shared_data, name), Timeframe.parse(timeframe), name)


def test_funding_rules() -> None:
    validate_funding(funding_every_8h(10), "funding.csv")
    validate_funding(FundingRates.empty(), "empty")
    rates = funding_every_8h(4)

    huge = FundingRates(rates.ts, np.array([0.0001, 1.5, 0.0001, 0.0001]))
    with pytest.raises(DataValidationError) as caught:
        validate_funding(huge, "funding.csv")
    assert (caught.value.rule, caught.value.row) == ("rate_plausible", 2)
    assert caught.value.detail.startswith("rate 1.5 at 2024-01-01T08:00:00Z is not a plausible")

    missing = FundingRates(rates.ts, np.array([0.0001, 0.0001, np.nan, 0.0001]))
    with pytest.raises(DataValidationError, match=r"row 3: rule 'no_nan'"):
        validate_funding(missing, "funding.csv")

    repeated = FundingRates.from_columns(
        ts=[JAN_1_2024, JAN_1_2024 + MINUTE, JAN_1_2024 + MINUTE], rate=[0.0] * 3
    )
    with pytest.raises(DataValidationError, match=r"row 3: rule 'timestamps_unique'"):
        validate_funding(repeated, "funding.csv")
