"""Properties over random markets and random order flow.

* the position is the sum of its fills; reduce-only fills never grow it;
* money is conserved: the ledger identity holds after every bar, to the last digit;
* the balance never goes negative (a liquidation tops a shortfall up from the insurance fund);
* **parity of the fast path and the live path**: ``advance`` over spans (returning early at
  events, or running through them) gives exactly the same events, funding and equity as
  ``advance(i, i + 1)`` per bar —
  with the pessimistic path and with the exact path from 1-minute candles;
* **the scan never skips a bar that matters**: an exchange that walks every bar in detail
  (no compiled scan at all) gives that same run too.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tests.sim.scenarios import MINUTE, SYMBOL, T0
from tradeplay.domain.errors import RejectedError
from tradeplay.domain.events import FundingApplied, OrderEvent, OrderFilled, OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import (
    ClientOrderId,
    MarginMode,
    OrderType,
    Side,
    TimeInForce,
    utc_from_ms,
)
from tradeplay.ports import TradingStop
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.funding import FundingSource
from tradeplay.sim.slippage import FixedBps, VolumeShare

FIFTEEN = Timeframe.parse("15m")
TICK = 0.1


@dataclass(frozen=True)
class Market:
    minutes: NDArray[np.float64]
    bars: NDArray[np.float64]


@st.composite
def markets(draw: st.DrawFn) -> Market:
    """Random 1-minute candles on the tick grid, and the 15-minute bars made of them."""
    count = draw(st.integers(4, 28))
    steps = draw(st.lists(st.integers(-25, 25), min_size=count * 15, max_size=count * 15))
    wicks = draw(st.lists(st.integers(0, 10), min_size=count * 30, max_size=count * 30))
    price, rows = 10_000, []  # ticks of 0.1: prices around 1000
    for m, step in enumerate(steps):
        open_ = price
        price = max(500, price + step)
        high = max(open_, price) + wicks[2 * m]
        low = max(100, min(open_, price) - wicks[2 * m + 1])
        rows.append(
            [T0 + m * MINUTE, open_ * TICK, high * TICK, low * TICK, price * TICK, 2.0 + m % 7]
        )
    minutes: NDArray[np.float64] = np.array(rows, dtype=np.float64).round(1)
    groups = minutes.reshape(count, 15, 6)
    bars = np.column_stack(
        [
            groups[:, 0, 0],
            groups[:, 0, 1],
            groups[:, :, 2].max(axis=1),
            groups[:, :, 3].min(axis=1),
            groups[:, -1, 4],
            groups[:, :, 5].sum(axis=1),
        ]
    )
    return Market(minutes, bars)


ORDER = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(list(OrderType)),
        "side": st.sampled_from(list(Side)),
        "qty": st.sampled_from(["0.05", "0.1", "0.25", "0.5"]),
        "offset": st.integers(-60, 60),
        "spread": st.integers(-20, 20),
        "tif": st.sampled_from([*TimeInForce, TimeInForce.GTC, TimeInForce.GTC]),
        "reduce_only": st.sampled_from([False, False, True]),
    }
)
ACTION = st.one_of(
    st.tuples(st.just("order"), ORDER),
    st.tuples(st.just("cancel"), st.integers(0, 12)),
    st.tuples(
        st.just("protect"),
        st.fixed_dictionaries(
            {"tp": st.integers(5, 400), "sl": st.integers(5, 400), "trail": st.integers(0, 400)}
        ),
    ),
)
CONFIGS = st.builds(
    SimConfig,
    starting_cash=st.sampled_from([Decimal(60), Decimal(300), Decimal(5000)]),
    leverage=st.sampled_from([Decimal(1), Decimal(5), Decimal(20), Decimal(50)]),
    margin_mode=st.sampled_from(list(MarginMode)),
    slippage=st.sampled_from([FixedBps(), FixedBps(Decimal(5)), VolumeShare(Decimal("0.01"))]),
    max_volume_share=st.sampled_from([None, Decimal("0.05"), Decimal("0.5")]),
    timeframe=st.just(FIFTEEN),
    funding=st.just(FundingSource.constant(Decimal("0.002"), timedelta(hours=1))),
)


class WalkingExchange(SimulatedExchange):
    """The reference: every bar walked in detail, the compiled scan never consulted."""

    def _scan(self, bars: NDArray[np.float64], i: int, stop: int) -> tuple[int, int]:
        return i, 1  # CANDIDATE: walk it


class Trader:
    """Applies a schedule of actions (after given bars) to an exchange, recording everything."""

    def __init__(
        self,
        market: Market,
        config: SimConfig,
        plan: dict[int, list[Any]],
        kind: type[SimulatedExchange] = SimulatedExchange,
    ) -> None:
        self.market, self.plan = market, plan
        self.exchange = kind(bybit_linear(SYMBOL), config)
        self.events: list[OrderEvent] = []
        self.funding: list[FundingApplied] = []
        self.equity: list[NDArray[np.float64]] = []
        self.sent = 0

    def advance(self, start: int, stop: int, exact: bool, *, through: bool = False) -> int:
        minutes = self.market.minutes if exact else None
        result = self.exchange.advance(
            self.market.bars, start, stop, minutes=minutes, through_events=through
        )
        self.events.extend(result.events)
        self.funding.extend(result.funding)
        self.equity.append(result.equity)
        return result.end

    def act(self, bar: int) -> None:
        close = round(self.market.bars[bar, 4] / TICK)
        time = utc_from_ms(int(self.market.bars[bar, 0]) + FIFTEEN.ms)
        for kind, spec in self.plan.get(bar, []):
            if kind == "order":
                self.events.extend(self.exchange.submit(self._order(spec, close, time)))
            elif kind == "cancel":
                self.events.extend(self.exchange.cancel(SYMBOL, ClientOrderId(f"o{spec}")))
            else:
                self._protect(spec, close)

    def _order(self, spec: dict[str, Any], close: int, time: Any) -> OrderSubmitted:
        self.sent += 1
        kind: OrderType = spec["kind"]
        level = Decimal(close + spec["offset"]) * Decimal("0.1")
        limit = Decimal(close + spec["offset"] + spec["spread"]) * Decimal("0.1")
        return OrderSubmitted(
            client_order_id=ClientOrderId(f"o{self.sent}"),
            time=time,
            symbol=SYMBOL,
            side=spec["side"],
            order_type=kind,
            qty=Decimal(spec["qty"]),
            price=(limit if kind.is_conditional else level) if kind.has_limit_price else None,
            trigger_price=level if kind.is_conditional else None,
            time_in_force=spec["tif"],
            reduce_only=spec["reduce_only"],
        )

    def _protect(self, spec: dict[str, int], close: int) -> None:
        size = self.exchange.position(SYMBOL).size
        sign = 1 if size >= 0 else -1
        tick = Decimal("0.1")
        stop = TradingStop(
            symbol=SYMBOL,
            take_profit=Decimal(close + sign * spec["tp"]) * tick,
            stop_loss=Decimal(close - sign * spec["sl"]) * tick,
            trailing_distance=Decimal(spec["trail"]) * tick if spec["trail"] else None,
        )
        with suppress(RejectedError):  # flat, or a leg on the wrong side: refused, like Bybit
            self.exchange.set_trading_stop(stop)


def live(
    market: Market,
    config: SimConfig,
    plan: dict[int, list[Any]],
    exact: bool,
    kind: type[SimulatedExchange] = SimulatedExchange,
) -> Trader:
    """Bar by bar, checking the invariants after every bar."""
    trader = Trader(market, config, plan, kind)
    for bar in range(len(market.bars)):
        trader.advance(bar, bar + 1, exact)
        check_invariants(trader)
        trader.act(bar)
    return trader


def fast(
    market: Market,
    config: SimConfig,
    plan: dict[int, list[Any]],
    exact: bool,
    *,
    through: bool = False,
) -> Trader:
    """Over spans up to the next decision, resuming after each early return (or, ``through``,
    running through events straight to the decision)."""
    trader, done, count = Trader(market, config, plan), 0, len(market.bars)
    for decision in [*sorted(plan), count - 1]:
        while done <= decision:
            done = trader.advance(done, decision + 1, exact, through=through)
        trader.act(decision)
    return trader


def check_invariants(trader: Trader) -> None:
    exchange = trader.exchange
    position = exchange.position(SYMBOL)
    filled = sum(
        (e.fill.signed_qty for e in trader.events if isinstance(e, OrderFilled)), Decimal(0)
    )
    assert position.size == filled
    exchange.ledger().check([position])
    exchange.account().check_balanced()
    assert exchange.account().wallet_balance >= 0


PLANS = st.dictionaries(
    st.integers(0, 27), st.lists(ACTION, min_size=1, max_size=3), min_size=1, max_size=12
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), config=CONFIGS, plan=PLANS, exact=st.booleans())
def test_spans_and_single_bars_give_the_same_run(
    market: Market, config: SimConfig, plan: dict[int, list[Any]], exact: bool
) -> None:
    plan = {bar: actions for bar, actions in plan.items() if bar < len(market.bars) - 1}
    one = live(market, config, plan, exact)
    many = fast(market, config, plan, exact)
    straight = fast(market, config, plan, exact, through=True)
    walked = live(market, config, plan, exact, WalkingExchange)
    for other in (many, straight, walked):
        assert other.events == one.events
        assert other.funding == one.funding
        assert np.array_equal(np.concatenate(other.equity), np.concatenate(one.equity))
        assert other.exchange.account() == one.exchange.account()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), config=CONFIGS, plan=PLANS)
def test_reduce_only_fills_never_grow_the_position(
    market: Market, config: SimConfig, plan: dict[int, list[Any]]
) -> None:
    trader = live(market, config, plan, exact=False)
    reduce_only = {
        e.client_order_id
        for e in trader.events
        if type(e).__name__ == "OrderAccepted"
        and any(
            spec["reduce_only"] and f"o{n}" == e.client_order_id
            for n, spec in enumerate(_orders(plan), start=1)
        )
    }
    size = Decimal(0)
    for event in trader.events:
        if isinstance(event, OrderFilled):
            after = size + event.fill.signed_qty
            if event.client_order_id in reduce_only or event.fill.client_order_id is None:
                assert abs(after) < abs(size)
                assert after == 0 or (after > 0) == (size > 0)
            size = after


def _orders(plan: dict[int, list[Any]]) -> list[dict[str, Any]]:
    return [spec for bar in sorted(plan) for kind, spec in plan[bar] if kind == "order"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    market=markets(),
    side=st.sampled_from(list(Side)),
    trail=st.integers(20, 400),
    exact=st.booleans(),
)
def test_trailing_stops_fire_where_the_detailed_walk_fires_them(
    market: Market, side: Side, trail: int, exact: bool
) -> None:
    """The scan ratchets a trailing stop through quiet bars exactly as the walk would."""
    entry = {"kind": OrderType.MARKET, "side": side, "qty": "0.5", "offset": 0, "spread": 0}
    entry |= {"tif": TimeInForce.GTC, "reduce_only": False}
    protect = {"tp": 9000, "sl": 9000, "trail": trail}
    plan: dict[int, list[Any]] = {0: [("order", entry)], 1: [("protect", protect)]}
    config = SimConfig(leverage=Decimal(1), timeframe=FIFTEEN)
    one = live(market, config, plan, exact)
    walked = live(market, config, plan, exact, WalkingExchange)
    assert walked.events == one.events
    assert np.array_equal(np.concatenate(walked.equity), np.concatenate(one.equity))
