"""Round trips from fills: entries averaged, exits summed, reversals split, PnL exact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from tests.domain.builders import T0, fill
from tradeplay.domain.fill import Fill
from tradeplay.domain.position import Position
from tradeplay.domain.values import PositionSide
from tradeplay.engine.trades import build_trades
from tradeplay.reports.model import TradeRecord

D = Decimal
T0_MS = int(T0.timestamp() * 1000)
# Ten one-second "bars" (the builder only needs open times, highs and lows).
BARS = np.array(
    [[T0_MS + 1000 * i, 100, 100 + i, 100 - i, 100, 1] for i in range(10)], dtype=np.float64
)


def _no_funding(start: datetime, end: datetime) -> Decimal:
    return D(0)


def _reason(fill: Fill) -> str:
    return "signal"


def _build(fills: list[Fill]) -> list[TradeRecord]:
    """Trades with each fill's realized PnL from a Position, as the exchange computes it."""
    position, realized = Position(symbol="BTCUSDT"), {}
    for each in fills:
        after = position.apply_fill(each)
        realized[each.trade_id] = after.realized_pnl - position.realized_pnl
        position = after
    return build_trades(
        "BTCUSDT",
        fills,
        bars=BARS,
        funding=_no_funding,
        reason_of=_reason,
        realized_of=lambda each: realized[each.trade_id],
    )


def test_a_long_built_in_two_fills_and_closed_in_two_is_one_trade() -> None:
    fills = [
        fill("buy", "1", "100", fee="0.1", seconds=1),
        fill("buy", "1", "110", fee="0.1", seconds=2),
        fill("sell", "0.5", "120", fee="0.05", seconds=4),
        fill("sell", "1.5", "130", fee="0.15", seconds=6),
    ]
    (trade,) = _build(fills)
    assert trade.side is PositionSide.LONG
    assert (trade.entry_price, trade.exit_price, trade.qty) == (D("105"), D("127.5"), D("2"))
    assert trade.gross_pnl == D("45")  # 0.5 × 15 + 1.5 × 25
    assert trade.fees == D("0.4")
    assert trade.net_pnl == D("44.6")
    assert trade.bars_held == 5
    assert trade.mae_price == D("11")  # lowest low in bars 1..6 is 94; entry 105
    assert trade.mfe_price == D("1")  # highest high is 106


def test_a_reversal_in_one_fill_closes_one_trade_and_opens_the_next() -> None:
    fills = [
        fill("sell", "1", "100", fee="0.1", seconds=1),
        fill("buy", "3", "90", fee="0.3", seconds=3),
        fill("sell", "2", "95", fee="0.2", seconds=5),
    ]
    short, long = _build(fills)
    assert (short.side, short.gross_pnl, short.fees) == (PositionSide.SHORT, D("10"), D("0.2"))
    assert (long.side, long.entry_price, long.qty) == (PositionSide.LONG, D("90"), D("2"))
    assert (long.gross_pnl, long.fees) == (D("10"), D("0.4"))
    # Each trade's extremes over its own bars, the reversal's bar 3 in both: the short's in
    # bars 1..3 (highest high 103, lowest low 97), the long's in 3..5 (low 95 never below
    # its entry at 90: no adverse excursion; high 105).
    assert (short.mae_price, short.mfe_price) == (D("3"), D("3"))
    assert (long.mae_price, long.mfe_price) == (D("0"), D("15"))


def test_a_trade_closed_on_the_last_bar_reads_its_extremes_up_to_it() -> None:
    (trade,) = _build([fill("buy", "1", "100", seconds=7), fill("sell", "1", "101", seconds=9)])
    assert trade.bars_held == 2
    assert (trade.mae_price, trade.mfe_price) == (D("9"), D("9"))  # low 91, high 109 in 7..9


def test_a_position_still_open_has_no_record_yet() -> None:
    assert _build([fill("buy", "1", "100")]) == []
