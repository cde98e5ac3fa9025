"""A running stage's record from its fills and bars, by hand: its position as the exchange
books it, its round trips, its equity at each close."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.reports.builders import T0_MS, fill
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import Symbol
from tradeplay.graduation import Stage, StageRecord
from tradeplay.graduation.records import record_of_stage

MINUTE = 60_000


def bars_of(closes: list[float]) -> np.ndarray:
    return np.asarray(
        [[T0_MS + i * MINUTE, c, c, c, c, 1.0] for i, c in enumerate(closes)], np.float64
    )


def demo_record(
    bars: np.ndarray,
    fills: list[Fill],
    *,
    entered_ms: int = T0_MS,
    traded: list[bool] | None = None,
) -> StageRecord:
    """A demo stage's record of BTCUSDT on 1-minute ``bars`` from a capital of 1,000."""
    return record_of_stage(
        "p",
        Stage.DEMO,
        symbol=Symbol("BTCUSDT"),
        bars=bars,
        bar_ms=MINUTE,
        fills=fills,
        capital=Decimal(1000),
        entered_ms=entered_ms,
        traded=traded,
    )


def test_round_trips_at_average_cost_and_a_reversal() -> None:
    fills = [
        fill(1, "buy", "1", "100", fee="0.1", ms=0 * MINUTE),
        fill(2, "buy", "1", "110", fee="0.1", ms=1 * MINUTE),  # entry 105
        # Sells 3 at 120: closes 2 (+30, fee 0.2 of its 0.3), opens 1 short (fee 0.1).
        fill(3, "sell", "3", "120", fee="0.3", ms=2 * MINUTE),
        fill(4, "buy", "1", "125", fee="0.1", ms=3 * MINUTE),  # the short loses 5
    ]
    record = demo_record(bars_of([100.0, 110.0, 120.0, 125.0]), fills)
    assert record.trade_pnls == (Decimal("29.6"), Decimal("-5.2"))  # 30 - 0.4; -5 - 0.2
    assert record.equity[-1] == 1024.4  # flat: the capital and both trades


def test_equity_is_marked_at_each_close_from_the_capital() -> None:
    start_ms = T0_MS
    bars = bars_of([100.0, 104.0, 98.0])
    fills = [fill(1, "buy", "2", "100", fee="0.2", ms=0 * MINUTE)]  # during the first bar
    record = demo_record(bars, fills, entered_ms=start_ms)
    assert record.equity.tolist() == [1000.0, 999.8, 1007.8, 995.8]
    assert record.equity_ms.tolist() == [start_ms + i * MINUTE for i in range(4)]
    assert record.trade_pnls == ()
    assert record.as_of_ms == start_ms + 3 * MINUTE


def test_its_days_are_the_bars_its_engine_ran_on() -> None:
    """Four bars taken, the middle two while paused: two minutes traded; its equity still
    counts every close (a paused play keeps its position)."""
    record = demo_record(
        bars_of([100.0, 104.0, 98.0, 101.0]),
        [fill(1, "buy", "2", "100", fee="0.2", ms=0)],
        entered_ms=T0_MS - 10 * MINUTE,  # entered, then the deployment was down ten minutes
        traded=[True, False, False, True],
    )
    assert record.traded_ms == 2 * MINUTE
    assert record.days == 2 * MINUTE / 86_400_000
    assert record.equity.tolist() == [1000.0, 999.8, 1007.8, 995.8, 1001.8]


def test_a_traded_flag_is_needed_for_every_bar() -> None:
    with pytest.raises(ValueError, match="3 traded flags for 2 bars"):
        demo_record(bars_of([100.0, 101.0]), [], traded=[True, True, False])
