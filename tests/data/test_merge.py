"""merge_series: history is never rewritten; new rows land in time order wherever they fall."""

from __future__ import annotations

import numpy as np
import pytest

from tests.data.factories import funding_every_8h, ramp_candles
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.merge import merge_series
from tradeplay.domain.errors import DataValidationError


def test_merging_into_nothing_takes_everything() -> None:
    merged, added = merge_series(Candles.empty(), ramp_candles(3), "new")

    assert (merged, added) == (ramp_candles(3), 3)


def test_rows_before_between_and_after_the_stored_ones_are_merged_in_order() -> None:
    whole = ramp_candles(12)
    stored = whole.take(np.array([3, 4, 7, 8]))
    new = whole.take(np.array([0, 1, 2, 4, 5, 6, 9, 10, 11]))  # row 4 is a duplicate

    merged, added = merge_series(stored, new, "new")

    assert merged == whole
    assert added == 8


def test_nothing_new_returns_the_stored_series_itself() -> None:
    stored = ramp_candles(5)

    merged, added = merge_series(stored, ramp_candles(5)[1:3], "again")

    assert merged is stored
    assert added == 0


def test_the_conflict_names_the_row_of_the_new_data() -> None:
    stored = funding_every_8h(5)
    new = FundingRates(stored.ts[2:], np.array([stored.rate[2], 0.02, stored.rate[4]]))

    with pytest.raises(DataValidationError) as caught:
        merge_series(stored, new, "bybit funding page 2")

    assert (caught.value.source, caught.value.rule, caught.value.row) == (
        "bybit funding page 2",
        "overlap_conflict",
        2,
    )
    assert "already stored with rate 0.0001, the new data has rate 0.02" in caught.value.detail
