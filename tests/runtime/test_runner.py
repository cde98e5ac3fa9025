"""The runner: a step per closed bar, warm-up without trading, gaps refused, actions timed."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import count

import numpy as np
import pytest
from numpy.typing import NDArray
from structlog.testing import capture_logs

from tradeplay.domain.errors import InputError
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import ClientOrderId, OrderType, Side, utc_from_ms
from tradeplay.engine.engine import EngineConfig
from tradeplay.engine.risk import RiskLimits
from tradeplay.play import CompiledPlay, compile_play
from tradeplay.runtime import paper as paper_module
from tradeplay.runtime.actions import TIMINGS_KEPT, TimedExchange
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.runner import PlayRunner
from tradeplay.sim.config import SimConfig
from tradeplay.sim.funding import FundingSource

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z
BTC = bybit_linear("BTCUSDT")

# Long while the close is above 100, flat below it.
PLAY = """\
schema_version: 1
symbol: BTCUSDT
timeframe: 1h
features:
  atr: {kind: atr, period: 2}
long:
  entry: close > 100
  exit: close < 100
sizing: {method: fixed_notional, amount: 1000}
"""


def play() -> CompiledPlay:
    return compile_play(PLAY, "runner.yaml")


def bars(closes: Sequence[float], start: int = 0) -> NDArray[np.float64]:
    rows = [[T0 + (start + i) * HOUR, c, c + 1, c - 1, c, 100.0] for i, c in enumerate(closes)]
    return np.array(rows, dtype=np.float64)


def paper(market: type[PaperMarket] = PaperMarket) -> PaperMarket:
    config = SimConfig(
        starting_cash=Decimal(10_000),
        funding=FundingSource.constant(Decimal(0), BTC.funding_interval),
        funded_at=utc_from_ms(T0),
    )
    return market(BTC, config)


def runner(market: PaperMarket) -> PlayRunner:
    config = EngineConfig(symbol="BTCUSDT", leverage=Decimal(1), limits=RiskLimits())
    return PlayRunner(play(), market, config, start_ms=T0)


def test_warm_up_bars_feed_the_features_but_never_the_engine() -> None:
    market = paper()
    bot = runner(market)
    bot.warm(bars([101, 102, 103]))  # entry signals on every bar: none may trade
    assert market.simulator.orders() == ()
    steps = bot.run(bars([104], start=3))
    assert [s.traded for s in steps] == [True]
    assert [o.client_order_id for o in market.simulator.orders()] == ["tpl-1"]


def test_an_order_sent_at_a_close_fills_at_the_next_bars_open() -> None:
    market = paper()
    bot = runner(market)
    bot.run(bars([99, 101, 105, 99, 98]))
    fills = market.simulator.fills()
    assert [(f.side.value, int(f.price)) for f in fills] == [("buy", 105), ("sell", 98)]
    assert [f.time for f in fills] == [utc_from_ms(T0 + 2 * HOUR), utc_from_ms(T0 + 4 * HOUR)]


@pytest.mark.parametrize("offset", [2, 0, -1])
def test_a_missed_doubled_or_reordered_bar_stops_the_runner(offset: int) -> None:
    bot = runner(paper())
    bot.run(bars([99, 99]))
    with pytest.raises(InputError, match="a bar was missed, doubled or is out of order"):
        bot.step(bars([99], start=1 + offset)[0])


def test_every_order_is_logged_with_its_delays() -> None:
    market = paper()
    bot = runner(market)
    with capture_logs() as logs:
        bot.run(bars([99, 101, 105]))
    submitted = [e for e in logs if e["event"] == "order_submitted"]
    filled = [e for e in logs if e["event"] == "order_filled"]
    assert [e["client_order_id"] for e in submitted] == ["tpl-1"]
    assert submitted[0]["signal_to_submit_ms"] >= 0
    assert submitted[0]["submit_to_ack_ms"] >= 0
    assert [(e["client_order_id"], e["price"]) for e in filled] == [("tpl-1", "105")]
    timing = bot.actions.timings[ClientOrderId("tpl-1")]
    assert timing.ack_to_fill_ns is not None
    assert timing.ack_to_fill_ns > 0


def test_delays_are_measured_on_the_counter_given() -> None:
    ticks = count(0, 1_000)
    market = paper()
    timed = TimedExchange(market.exchange, counter=lambda: next(ticks))
    timed.bar_received()  # 0
    market.on_bar(bars([100])[0])
    timed.submit(
        OrderSubmitted(
            client_order_id=ClientOrderId("x-1"),
            time=utc_from_ms(T0 + HOUR),
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            qty=Decimal("0.1"),
        )
    )  # sent at 1,000, acked at 2,000
    timed.fills_seen(market.on_bar(bars([100], start=1)[0]))  # seen at 3,000
    timing = timed.timings[ClientOrderId("x-1")]
    assert (timing.signal_to_submit_ns, timing.submit_to_ack_ns, timing.ack_to_fill_ns) == (
        1_000,
        1_000,
        1_000,
    )


def test_a_shadow_run_records_what_it_would_send() -> None:
    market = paper(ShadowMarket)
    assert isinstance(market, ShadowMarket)
    runner(market).run(bars([99, 101, 105, 99, 98]))
    assert [
        (w.action, w.order.side.value if w.order else None) for w in market.shadow.would_be
    ] == [
        ("submit", "buy"),
        ("submit", "sell"),
    ]


def _order(n: int) -> OrderSubmitted:
    return OrderSubmitted(
        client_order_id=ClientOrderId(f"x-{n}"),
        time=utc_from_ms(T0 + HOUR),
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.001"),
        price=Decimal(50),
    )


def test_a_runner_keeps_the_timings_of_its_latest_orders_only() -> None:
    """A runner runs for months: what it keeps per order must not grow with it."""
    market = paper()
    market.on_bar(bars([100])[0])
    timed = TimedExchange(market.exchange)
    for n in range(1, TIMINGS_KEPT + 6):
        timed.submit(_order(n))
    assert len(timed.timings) == TIMINGS_KEPT
    assert next(iter(timed.timings)) == ClientOrderId("x-6")  # the five oldest were let go
    assert ClientOrderId(f"x-{TIMINGS_KEPT + 5}") in timed.timings


def test_a_shadow_run_keeps_its_latest_would_be_actions_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paper_module, "WOULD_BE_KEPT", 3)
    market = paper(ShadowMarket)
    assert isinstance(market, ShadowMarket)
    market.on_bar(bars([100])[0])
    for n in range(1, 6):
        market.shadow.submit(_order(n))
    sent = [w.order.client_order_id for w in market.shadow.would_be if w.order is not None]
    assert sent == ["x-3", "x-4", "x-5"]
