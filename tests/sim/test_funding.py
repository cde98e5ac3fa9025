"""Funding: who pays whom, when settlements happen, and where the rates come from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from tests.domain.builders import fill
from tradeplay.data.candles import FundingRates
from tradeplay.domain.errors import ConfigError, DataValidationError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.position import Position
from tradeplay.sim.funding import (
    FundingBasis,
    FundingSource,
    funding_payment,
    settle,
    settlement_marks,
)

D = Decimal
BTC = bybit_linear("BTCUSDT")
DAY = datetime(2025, 3, 1, tzinfo=UTC)
HOUR_MS = 3_600_000


def ms(hours: float, day: datetime = DAY) -> int:
    """Milliseconds of ``day`` + ``hours``."""
    return int((day + timedelta(hours=hours)).timestamp() * 1000)


# ------------------------------------------------------------------------------ payment


@pytest.mark.parametrize(
    ("size", "mark", "rate", "payment"),
    [
        ("0.1", "60000", "0.0001", "0.6"),  # long, positive rate: pays 0.1 × 60 000 × 0.01 %
        ("-0.1", "60000", "0.0001", "-0.6"),  # short, positive rate: receives
        ("0.1", "60000", "-0.00025", "-1.5"),  # long, negative rate: receives
        ("-2", "3000", "-0.00025", "1.5"),  # short, negative rate: pays 2 × 3 000 × 0.025 %
    ],
)
def test_longs_pay_shorts_when_the_rate_is_positive_and_receive_when_negative(
    size: str, mark: str, rate: str, payment: str
) -> None:
    assert funding_payment(D(size), D(mark), D(rate)) == D(payment)


def test_settle_books_the_position_value_at_the_mark_times_the_rate() -> None:
    short = Position(symbol="BTCUSDT").apply_fill(fill("sell", "0.5", "60000"))
    time = datetime(2025, 3, 1, 8, tzinfo=UTC)
    event = settle(short, time, D("0.0001"), D(61000))
    assert event is not None
    # The mark (61 000), not the entry (60 000): 0.5 × 61 000 × 0.01 % = 3.05 received.
    assert (event.symbol, event.time, event.size, event.payment) == (
        "BTCUSDT",
        time,
        D("-0.5"),
        D("-3.05"),
    )
    assert short.apply_funding(event).funding_paid == D("-3.05")


def test_a_flat_position_pays_no_funding() -> None:
    assert settle(Position(symbol="BTCUSDT"), DAY, D("0.0001"), D(60000)) is None


# ------------------------------------------------------------------------------ constant


def test_without_stored_rates_the_schedule_is_the_stated_constant_on_the_utc_grid() -> None:
    source = FundingSource.for_instrument(BTC, None)
    assert source.basis is FundingBasis.CONSTANT
    assert source.constant_rate == D("0.0001")  # 0.03 % a day / 3 settlements
    schedule = source.settlements(ms(0), ms(24))
    assert schedule.times() == [DAY, DAY + timedelta(hours=8), DAY + timedelta(hours=16)]
    assert [schedule.rate_at(i) for i in range(len(schedule))] == [D("0.0001")] * 3
    assert source.describe() == (
        "funding: constant 0.01 % every 8 h on the UTC grid from 00:00 (no stored funding history)"
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (7.5, 8, []),  # [07:30, 08:00): the 08:00 settlement is not inside
        (8, 8.001, [8]),  # the start is inclusive
        (8.0001, 16, []),  # just after 08:00: gone
        (-1, 17, [0, 8, 16]),  # 23:00 the day before to 17:00
        (9, 9, []),  # an empty span
    ],
)
def test_settlements_are_those_in_the_half_open_span(
    start: float, end: float, expected: list[int]
) -> None:
    schedule = FundingSource.constant(D("0.0001"), timedelta(hours=8)).settlements(
        ms(start), ms(end)
    )
    assert schedule.ts.tolist() == [ms(hour) for hour in expected]


@pytest.mark.parametrize(
    ("hours", "rate"),
    [(8, "0.0001"), (4, "0.00005"), (2, "0.000025"), (1, "0.0000125")],
)
def test_the_default_constant_scales_bybits_daily_interest_to_the_interval(
    hours: int, rate: str
) -> None:
    instrument = replace(BTC, funding_interval=timedelta(hours=hours))
    source = FundingSource.for_instrument(instrument, FundingRates.empty())
    assert source.constant_rate == D(rate)
    assert len(source.settlements(ms(0), ms(24))) == 24 // hours


def test_a_stated_constant_is_used_and_reported() -> None:
    source = FundingSource.for_instrument(BTC, None, constant_rate=D("-0.0002"))
    assert source.settlements(ms(0), ms(8)).rate_at(0) == D("-0.0002")
    assert "constant -0.02 % every 8 h" in source.describe()


def test_a_constant_schedule_needs_an_interval_that_divides_a_day() -> None:
    with pytest.raises(ConfigError, match="does not divide a day"):
        FundingSource.constant(D("0.0001"), timedelta(hours=7))


# ------------------------------------------------------------------------------ history


def _history(*rows: tuple[float, float]) -> FundingRates:
    return FundingRates.from_columns(ts=[ms(h) for h, _ in rows], rate=[r for _, r in rows])


def test_stored_rates_settle_at_their_own_timestamps_with_their_own_rates() -> None:
    stored = _history((0, 0.0001), (8, -0.000881), (16, 0.00005))
    source = FundingSource.for_instrument(BTC, stored, constant_rate=D("0.0009"))
    assert source.basis is FundingBasis.HISTORY  # the stated constant is only a fallback
    schedule = source.settlements(ms(4), ms(24))
    assert schedule.ts.tolist() == [ms(8), ms(16)]
    assert [schedule.rate_at(0), schedule.rate_at(1)] == [D("-0.000881"), D("0.00005")]
    assert source.describe() == (
        "funding: stored history, 3 settlements from 2025-03-01 00:00 to 2025-03-01 16:00 UTC "
        "(none charged outside that range)"
    )


def test_history_reports_whether_it_covers_a_span() -> None:
    source = FundingSource.from_history(
        _history((0, 0.0001), (8, 0.0001), (16, 0.0001)), timedelta(hours=8)
    )
    assert source.covers(ms(0), ms(24))
    assert not source.covers(ms(-9), ms(8))  # a settlement (the day before, 16:00) is missing
    assert not source.covers(ms(0), ms(25))
    assert FundingSource.constant(D(0), timedelta(hours=8)).covers(ms(-100), ms(100))


def test_history_must_be_ascending_and_finite() -> None:
    with pytest.raises(DataValidationError, match="row 2"):
        FundingSource.from_history(
            _history((0, 0.0001), (8, 0.0001), (8, 0.0001)), timedelta(hours=8)
        )
    with pytest.raises(DataValidationError, match="not finite"):
        FundingSource.from_history(_history((0, 0.0001), (8, float("nan"))), timedelta(hours=8))


# ------------------------------------------------------------------------------ bars


def test_the_mark_of_a_settlement_is_the_open_of_the_bar_containing_it() -> None:
    bar_ts = np.array([ms(6), ms(7), ms(8), ms(9)], dtype=np.int64)
    bar_open = np.array([100.0, 101.0, 102.0, 103.0])
    marks = settlement_marks(np.array([ms(8), ms(9.5)], dtype=np.int64), bar_ts, bar_open)
    assert marks.tolist() == [102.0, 103.0]
    with pytest.raises(ConfigError, match="precedes the bars"):
        settlement_marks(np.array([ms(5)], dtype=np.int64), bar_ts, bar_open)


def _run_bars(fills_at_open: dict[int, tuple[str, str]]) -> Position:
    """Hourly bars 06:00 to 10:00, the documented order per bar: settle, then fill at the open."""
    source = FundingSource.constant(D("0.0001"), timedelta(hours=8))
    position = Position(symbol="BTCUSDT")
    for hour in range(6, 11):
        schedule = source.settlements(ms(hour), ms(hour + 1))
        for i, time in enumerate(schedule.times()):
            event = settle(position, time, schedule.rate_at(i), D(60000))
            position = position if event is None else position.apply_funding(event)
        if hour in fills_at_open:
            side, qty = fills_at_open[hour]
            position = position.apply_fill(fill(side, qty, "60000"))
    return position


def test_a_position_closed_at_the_settlement_bars_open_still_pays_that_settlement() -> None:
    # Opened at 07:00, closed by a fill at 08:00 exactly: open at the 08:00 settlement.
    held = _run_bars({7: ("buy", "1"), 8: ("sell", "1")})
    assert held.funding_paid == D(6)  # 1 × 60 000 × 0.01 %


def test_a_position_opened_at_the_settlement_instant_does_not_pay_it() -> None:
    assert _run_bars({8: ("buy", "1")}).funding_paid == 0
    assert _run_bars({6: ("sell", "1"), 7: ("buy", "1")}).funding_paid == 0


def test_a_quiet_span_settles_in_one_call_as_bar_by_bar_would() -> None:
    # Long 0.2 held over three days of hourly bars with a ramping price; no fill in between.
    source = FundingSource.for_instrument(BTC, None)
    bar_ts = np.arange(ms(0), ms(72), HOUR_MS, dtype=np.int64)
    bar_open = 60000.0 + np.arange(len(bar_ts), dtype=np.float64) * 10.0
    schedule = source.settlements(int(bar_ts[0]), int(bar_ts[-1]) + HOUR_MS)
    marks = settlement_marks(schedule.ts, bar_ts, bar_open)
    span = sum(
        funding_payment(D("0.2"), D(str(mark)), schedule.rate_at(i)) for i, mark in enumerate(marks)
    )
    per_bar = D(0)
    for k, start in enumerate(bar_ts.tolist()):
        one = source.settlements(start, start + HOUR_MS)
        for i in range(len(one)):
            per_bar += funding_payment(D("0.2"), D(str(bar_open[k])), one.rate_at(i))
    assert len(schedule) == 9
    # Nine settlements at opens 60 000, 60 080, …, 60 640: 0.2 × 0.0001 × Σ = 10.8576
    assert span == per_bar == D("10.8576")
