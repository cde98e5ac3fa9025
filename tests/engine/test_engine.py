"""The engine's loop against the simulated exchange: sequences, refusals, vetoes, protection."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderRejected, OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import PositionSide
from tradeplay.engine.clock import BarClock
from tradeplay.engine.engine import Engine, EngineConfig
from tradeplay.engine.risk import RiskLimits
from tradeplay.play import CompiledPlay, compile_play
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.funding import FundingSource

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
BTC = bybit_linear("BTCUSDT")

PLAY = """\
schema_version: 1
symbol: BTCUSDT
timeframe: 1h
features:
  atr: {{kind: atr, period: 2}}
long:
  entry: close > 0
  exit: close < 0
short:
  entry: close < 0
  exit: close > 1e12
{extra}
"""


def _play(extra: str = "") -> CompiledPlay:
    return compile_play(PLAY.format(extra=extra), "engine.yaml")


def _bars(closes: Sequence[float]) -> NDArray[np.float64]:
    rows = [[T0 + i * HOUR, c, c + 10, c - 10, c, 100.0] for i, c in enumerate(closes)]
    return np.array(rows, dtype=np.float64)


class _Setup:
    def __init__(
        self,
        play: CompiledPlay,
        *,
        limits: RiskLimits | None = None,
        exchange: type[SimulatedExchange] = SimulatedExchange,
        keep: int | None = None,
    ) -> None:
        self.exchange = exchange(
            BTC,
            SimConfig(
                starting_cash=Decimal(10_000),
                leverage=Decimal(1),
                timeframe=play.play.timeframe,
                funding=FundingSource.constant(Decimal(0), BTC.funding_interval),
            ),
        )
        self.clock = BarClock(T0)
        self.engine = Engine(
            play,
            self.exchange,
            self.clock,
            EngineConfig("BTCUSDT", Decimal(1), limits or RiskLimits(), keep_decisions=keep),
        )

    def bar(self, bars: NDArray[np.float64], i: int, fired: str = "", atr: float = 20.0) -> None:
        self.exchange.advance(bars, i, i + 1)
        self.clock.set_ms(int(bars[i, 0]) + HOUR)
        signals = {
            r: r in fired.split() for r in ("long.entry", "long.exit", "short.entry", "short.exit")
        }
        columns = {"close": float(bars[i, 4]), "atr": atr, "atr.value": atr}
        self.engine.on_bar_close(i, signals, columns, bars[: i + 1, 4])


def test_an_entry_fills_at_the_next_open_with_its_atr_stop_placed_at_the_fill() -> None:
    setup = _Setup(_play("stop_loss: {method: atr, multiple: 2, atr: atr}"))
    bars = _bars([40_000, 40_100, 40_200])
    setup.bar(bars, 0)
    setup.bar(bars, 1, "long.entry", atr=50.0)
    setup.bar(bars, 2)
    position = setup.exchange.position("BTCUSDT")
    assert position.side is PositionSide.LONG
    assert position.entry_price == Decimal("40200")  # the open of bar 2
    assert setup.exchange.trading_stop("BTCUSDT").stop_loss == Decimal("40100")  # 40200 - 2 × 50


def test_an_entry_below_the_minimum_is_refused_with_the_instruments_words() -> None:
    setup = _Setup(_play("sizing: {method: fixed_notional, amount: 4}"))
    bars = _bars([40_000, 40_100])
    setup.bar(bars, 0, "long.entry")
    (decision,) = setup.engine.journal.decisions
    assert decision.outcome == "refused"
    assert "below the minimum order quantity 0.001" in decision.detail
    assert setup.exchange.open_orders() == ()


def test_the_kill_switch_vetoes_entries_before_anything_is_sent() -> None:
    setup = _Setup(_play(), limits=RiskLimits(kill_switch=True))
    bars = _bars([40_000, 40_100])
    setup.bar(bars, 0, "long.entry")
    assert [d.outcome for d in setup.engine.journal.decisions] == ["vetoed"]
    assert setup.exchange.open_orders() == ()


class _RefusingCloses(SimulatedExchange):
    """An exchange that refuses every reduce-only order, to break a reversal's first step."""

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        if order.reduce_only:
            return (
                OrderRejected(
                    client_order_id=order.client_order_id,
                    time=order.time,
                    reason="refused for the test",
                ),
            )
        return super().submit(order)


def test_a_reversal_whose_exit_is_refused_does_not_open_the_other_side() -> None:
    setup = _Setup(_play(), exchange=_RefusingCloses)
    bars = _bars([40_000, 40_100, 40_200, 40_300])
    setup.bar(bars, 0, "long.entry")
    setup.bar(bars, 1)
    setup.bar(bars, 2, "short.entry")  # reversal: close the long, then open a short
    outcomes = [(d.step, d.outcome) for d in setup.engine.journal.decisions]
    assert outcomes[-1] == ("exit_long", "rejected")
    assert setup.exchange.open_orders() == ()
    setup.bar(bars, 3)
    assert setup.exchange.position("BTCUSDT").side is PositionSide.LONG


def test_the_maximum_holding_time_closes_the_position_with_its_own_reason() -> None:
    setup = _Setup(_play("max_holding: 2"))
    bars = _bars([40_000] * 6)
    setup.bar(bars, 0, "long.entry")
    for i in range(1, 6):
        setup.bar(bars, i)
    assert setup.exchange.position("BTCUSDT").is_flat
    assert "max_holding" in setup.engine.execution.exit_reasons.values()


def test_a_trailing_stop_is_placed_on_the_tick_grid() -> None:
    # 3 × ATR 10.37 = 31.11 and 1.5 % activation of 40,200 = 40,803 are not on BTC's 0.1 grid
    # the way Bybit takes them; both are rounded to the nearest tick, never below one tick.
    setup = _Setup(
        _play("trailing_stop: {method: atr, multiple: 3, atr: atr, activation_percent: 1.5}")
    )
    bars = _bars([40_000, 40_100, 40_200, 40_300])
    setup.bar(bars, 0)
    setup.bar(bars, 1, "long.entry")
    setup.bar(bars, 2, atr=10.37)
    stop = setup.exchange.trading_stop("BTCUSDT")
    assert stop.trailing_distance == Decimal("31.1")
    assert stop.trailing_activation == Decimal("40803.0")


def test_an_engine_keeping_a_window_forgets_its_oldest_decisions_and_exit_reasons() -> None:
    """A runner's engine runs for months: what it keeps in memory must not grow with it."""
    bars = _bars([40_000 + 10 * i for i in range(8)])
    window, everything = _Setup(_play(), keep=2), _Setup(_play())
    for setup in (window, everything):
        for i in range(0, 8, 2):  # four round trips: enter on one bar, leave on the next
            setup.bar(bars, i, "long.entry")
            setup.bar(bars, i + 1, "short.entry")  # a reversal: close the long, open a short
    kept = window.engine.journal.decisions
    assert kept == everything.engine.journal.decisions[-2:]
    assert [d.bar for d in kept] == [7, 7]
    reasons = list(everything.engine.execution.exit_reasons.items())
    assert len(reasons) > 2
    assert list(window.engine.execution.exit_reasons.items()) == reasons[-2:]


@pytest.mark.parametrize(("sizing", "kept"), [("{method: kelly, lookback: 10}", 10), ("", 0)])
def test_the_engine_keeps_the_trade_returns_its_sizing_reads_and_no_more(
    sizing: str, kept: int
) -> None:
    setup = _Setup(_play(f"sizing: {sizing}" if sizing else ""))
    bars = _bars([40_000 + 10 * (i % 5) for i in range(50)])
    for i in range(0, 48, 2):  # 24 round trips: in on one bar, out on the next
        setup.bar(bars, i, "long.entry")
        setup.bar(bars, i + 1, "long.exit")
    setup.bar(bars, 48)  # flat again: the last trade's return is known
    assert len(setup.engine.trade_returns) == kept
    assert setup.engine.execution.orders_sent == setup.engine.journal.count("sent") > 0
