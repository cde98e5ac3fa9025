"""Crash recovery settles every difference between our records and the venue, the venue's way.

Each scenario: what we stored, what the (fake) venue holds; then what recovery stored, did at
the venue and reported. The venue is a fake :class:`VenueAccount` built from Bybit's own
report types, so every branch is reached exactly; the kill test runs the real thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradeplay.domain.errors import RejectedError, VenueUnavailableError
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.position import Position
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    OrderId,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    TradeId,
)
from tradeplay.engine.risk import RiskLimits
from tradeplay.notify import Event, Health, HealthChanged, LocalBus
from tradeplay.notify.events import Reconciled
from tradeplay.play.compiler import compile_play
from tradeplay.ports import TradingStop
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.recovery import NEVER_PLACED, STATE_KEY, Action, Recovery
from tradeplay.store import Database, default_url
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport

ENV = "demo"
BTC: Symbol = "BTCUSDT"
T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
PLAY = """\
schema_version: 1
name: cross
symbol: BTCUSDT
timeframe: 1m
features: {fast: {kind: ema, period: 3}, slow: {kind: ema, period: 8}}
long: {entry: "crosses_above(fast, slow)", exit: "crosses_below(fast, slow)"}
short: {entry: "crosses_below(fast, slow)", exit: "crosses_above(fast, slow)"}
sizing: {method: percent_equity, percent: 20}
stop_loss: {method: percent, percent: 1}
take_profit: {method: percent, percent: 2}
account: {capital: 10000, leverage: 1, margin_mode: isolated}
"""


class FixedClock:
    def now(self) -> datetime:
        return T0


@dataclass
class FakeVenue:
    """A venue account holding exactly what a scenario gives it, recording what it was told."""

    orders: list[OrderReport] = field(default_factory=list)
    """Every order the venue knows (open and closed)."""
    positions_held: list[PositionReport] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    wallet: Decimal = Decimal(10000)
    stops: list[TradingStop] = field(default_factory=list)
    submitted: list[OrderSubmitted] = field(default_factory=list)
    on_fill: list[OrderSubmitted] = field(default_factory=list)
    refuse_stops: bool = False
    down: bool = False

    def open_orders(self) -> Sequence[OrderReport]:
        self._check()
        return [o for o in self.orders if o.is_open]

    def find_order(self, symbol: Symbol, link_id: ClientOrderId) -> OrderReport | None:
        return next((o for o in self.orders if o.client_order_id == link_id), None)

    def positions(self) -> Sequence[PositionReport]:
        return list(self.positions_held)

    def balance(self) -> BalanceReport:
        zero = Decimal(0)
        return BalanceReport(
            coin="USDT",
            wallet_balance=self.wallet,
            equity=self.wallet,
            unrealized_pnl=zero,
            cum_realized_pnl=zero,
            position_margin=zero,
            order_margin=zero,
            locked=zero,
            total_available=None,
        )

    def executions(self, symbol: Symbol, start_ms: int | None) -> Sequence[Fill]:
        start = T0 - timedelta(days=1) if start_ms is None else _at_ms(start_ms)
        return [f for f in self.fills if f.symbol == symbol and f.time >= start]

    def instrument(self, symbol: Symbol) -> Instrument:
        return bybit_linear(symbol)

    def set_trading_stop(self, stop: TradingStop) -> None:
        if self.refuse_stops:
            raise RejectedError("StopLoss:5900000 set for Buy position should lower than base")
        self.stops.append(stop)
        self.positions_held = [
            replace(p, stop_loss=stop.stop_loss, take_profit=stop.take_profit)
            for p in self.positions_held
        ]

    def submit(self, order: OrderSubmitted) -> None:
        self.submitted.append(order)
        taken = report(order.client_order_id, OrderStatus.NEW, side=order.side, reduce_only=True)
        self.orders.append(replace(taken, order_id=OrderId(f"v-{len(self.orders) + 2}")))

    def protect_on_fill(self, order: OrderSubmitted) -> None:
        self.on_fill.append(order)

    def _check(self) -> None:
        if self.down:
            raise VenueUnavailableError("bybit did not answer within 60 s")


def _at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def report(
    link: str | None,
    status: OrderStatus,
    *,
    side: Side = Side.BUY,
    filled: str = "0",
    reduce_only: bool = False,
    venue_id: str = "v-1",
) -> OrderReport:
    qty = Decimal("0.030")
    return OrderReport(
        client_order_id=None if link is None else ClientOrderId(link),
        order_id=OrderId(venue_id),
        symbol=BTC,
        side=side,
        order_type=OrderType.MARKET if link else OrderType.LIMIT,
        status=status,
        qty=qty,
        price=None if link else Decimal(59000),
        trigger_price=None,
        time_in_force=TimeInForce.GTC,
        reduce_only=reduce_only,
        filled_qty=Decimal(filled),
        filled_value=Decimal(filled) * 60000,
        avg_price=Decimal(60000) if Decimal(filled) else None,
        fees=Decimal(0),
        reason="",
        stop_order_type="",
        created_at=T0 - timedelta(minutes=3),
        updated_at=T0 - timedelta(minutes=2),
    )


def position(
    size: str, *, stop: str | None = None, target: str | None = None, entry: str = "60000"
) -> PositionReport:
    qty = Decimal(size)
    zero = Decimal(0)
    return PositionReport(
        symbol=BTC,
        position_idx=0,
        size=qty,
        entry_price=Decimal(entry),
        position_value=abs(qty) * Decimal(entry),
        mark_price=Decimal(entry),
        leverage=Decimal(1),
        unrealized_pnl=zero,
        realized_pnl=zero,
        cum_realized_pnl=zero,
        liquidation_price=None,
        take_profit=None if target is None else Decimal(target),
        stop_loss=None if stop is None else Decimal(stop),
        trailing_stop=None,
        updated_at=T0 - timedelta(minutes=2),
    )


def fill(trade: str, link: str | None, minutes_ago: int, side: Side = Side.BUY) -> Fill:
    return Fill(
        trade_id=TradeId(trade),
        order_id=OrderId("v-1"),
        client_order_id=None if link is None else ClientOrderId(link),
        symbol=BTC,
        side=side,
        qty=Decimal("0.030"),
        price=Decimal(60000),
        fee=Decimal("0.99"),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        time=T0 - timedelta(minutes=minutes_ago),
    )


def pending(link: str, side: Side = Side.BUY) -> Order:
    return Order.from_submitted(
        OrderSubmitted(
            client_order_id=ClientOrderId(link),
            time=T0 - timedelta(minutes=3),
            symbol=BTC,
            side=side,
            order_type=OrderType.MARKET,
            qty=Decimal("0.030"),
        )
    )


@dataclass
class World:
    database: Database
    venue: FakeVenue
    recovery: Recovery
    seen: list[Event]

    def actions(self) -> list[tuple[str, str]]:
        return [(e.action, e.ref) for e in self.seen if isinstance(e, Reconciled)]

    def health(self) -> list[Health]:
        return [e.health for e in self.seen if isinstance(e, HealthChanged)]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    database = Database.open(default_url(tmp_path))
    venue = FakeVenue()
    bus, seen = LocalBus(), list[Event]()
    bus.subscribe(seen.append)
    recovery = Recovery(ENV, venue, database, bus, FixedClock(), retry_s=0.0)
    pair = Pair(
        key=PairKey(ENV, "cross"),
        play=compile_play(PLAY),
        symbol=BTC,
        capital=Decimal(10000),
        limits=RiskLimits(),
    )
    recovery.add(pair, np.empty((0, 6)))
    yield World(database, venue, recovery, seen)
    database.close()


def test_a_records_and_venue_that_agree_settle_nothing(world: World) -> None:
    assert world.recovery.reconcile() == []
    assert world.recovery.agreed()
    assert world.health() == [Health.OK, Health.OK]
    assert world.database.balances.latest(ENV)[0].wallet_balance == Decimal(10000)


def test_an_unknown_open_order_is_adopted_and_reported(world: World) -> None:
    world.venue.orders = [report(None, OrderStatus.NEW, venue_id="manual-7")]
    found = world.recovery.reconcile()
    assert [(f.action, f.ref) for f in found] == [(Action.ORDER_ADOPTED, "manual-7")]
    stored = world.database.orders.get(ENV, ClientOrderId("manual-7"))
    assert stored is not None
    assert (stored.status, stored.order_id, stored.price) == (
        OrderStatus.NEW,
        "manual-7",
        Decimal(59000),
    )
    assert world.actions() == [("order_adopted", "manual-7")]
    assert world.recovery.reconcile() == []  # adopted once: known from then on


def test_an_unknown_position_is_adopted_reported_and_protected(world: World) -> None:
    world.venue.positions_held = [position("0.030")]
    found = world.recovery.reconcile()
    assert [f.action for f in found] == [Action.POSITION_ADOPTED, Action.PROTECTION_RESTORED]
    stored = world.database.positions.get(ENV, BTC)
    assert stored is not None
    assert (stored.size, stored.entry_price) == (Decimal("0.030"), Decimal(60000))
    # 1 % stop and 2 % target from the entry, as the play's rules put them at the fill
    assert world.venue.stops == [
        TradingStop(BTC, take_profit=Decimal(61200), stop_loss=Decimal(59400))
    ]


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        (position("0.030"), TradingStop(BTC, take_profit=Decimal(61200), stop_loss=Decimal(59400))),
        (
            position("0.030", target="61500"),
            TradingStop(BTC, take_profit=Decimal(61500), stop_loss=Decimal(59400)),
        ),
        (
            position("-0.030", stop="60500"),
            TradingStop(BTC, take_profit=Decimal(58800), stop_loss=Decimal(60500)),
        ),
        (position("0.030", stop="59000", target="62000"), None),
    ],
    ids=["both-missing", "stop-missing", "short-target-missing", "protected"],
)
def test_a_missing_stop_or_target_is_restored_and_a_present_one_kept(
    world: World, held: PositionReport, expected: TradingStop | None
) -> None:
    world.database.positions.save(ENV, held.to_position())
    world.venue.positions_held = [held]
    found = world.recovery.reconcile()
    assert world.venue.stops == ([] if expected is None else [expected])
    restored = [] if expected is None else [Action.PROTECTION_RESTORED]
    assert [f.action for f in found] == restored
    assert world.recovery.agreed()


def test_a_position_past_its_levels_is_closed_at_market_when_protection_is_refused(
    world: World,
) -> None:
    world.database.positions.save(ENV, position("0.030").to_position())
    world.venue.positions_held = [position("0.030")]
    world.venue.refuse_stops = True
    found = world.recovery.reconcile()
    # the next pass finds the close working at the venue: no second close, no stop over it
    assert [f.action for f in found] == [Action.POSITION_CLOSED, Action.PENDING_FOUND]
    assert world.recovery.failure == ""
    [close] = world.venue.submitted
    assert (close.side, close.qty, close.reduce_only, close.order_type) == (
        Side.SELL,
        Decimal("0.030"),
        True,
        OrderType.MARKET,
    )
    stored = world.database.orders.get(ENV, close.client_order_id)
    assert stored is not None  # stored before it was sent


def test_a_pending_order_the_venue_knows_is_recorded_as_the_venue_says(world: World) -> None:
    world.database.orders.save(ENV, pending("cross-1"))
    world.venue.orders = [report("cross-1", OrderStatus.FILLED, filled="0.030")]
    world.venue.fills = [fill("e-1", "cross-1", 2)]
    found = world.recovery.reconcile()
    assert [(f.action, f.ref) for f in found] == [
        (Action.FILL_RECORDED, "e-1"),
        (Action.PENDING_FOUND, "cross-1"),
    ]
    stored = world.database.orders.get(ENV, ClientOrderId("cross-1"))
    assert stored is not None
    assert (stored.status, stored.filled_qty, stored.order_id) == (
        OrderStatus.FILLED,
        Decimal("0.030"),
        "v-1",
    )


def test_a_pending_order_the_venue_never_saw_is_marked_never_placed(world: World) -> None:
    world.database.orders.save(ENV, pending("cross-2"))
    found = world.recovery.reconcile()
    assert [(f.action, f.ref) for f in found] == [(Action.PENDING_NOT_PLACED, "cross-2")]
    stored = world.database.orders.get(ENV, ClientOrderId("cross-2"))
    assert stored is not None
    assert (stored.status, stored.reason) == (OrderStatus.REJECTED, NEVER_PLACED)
    assert world.database.orders.open(ENV) == []


def test_an_open_entry_of_ours_gets_its_protection_placed_at_its_fill(world: World) -> None:
    world.database.orders.save(ENV, pending("cross-3"))
    world.venue.orders = [report("cross-3", OrderStatus.NEW)]
    found = world.recovery.reconcile()
    assert [f.action for f in found] == [Action.PENDING_FOUND, Action.PROTECTION_ON_FILL]
    [entry] = world.venue.on_fill
    assert entry.client_order_id == "cross-3"
    assert entry.protection is not None
    assert entry.protection.resolve(Side.BUY, Decimal(60000)) == (Decimal(59400), Decimal(61200))


def test_fills_while_down_are_recorded_once_and_resume_from_the_last_seen(
    world: World,
) -> None:
    world.database.fills.record(ENV, fill("e-0", "cross-0", 30))
    world.database.positions.save(ENV, Position(symbol=BTC))
    world.recovery.reconcile()  # the first recovery reads the whole history
    world.venue.fills = [
        fill("e-0", "cross-0", 30),
        fill("e-1", "cross-4", 10),
        fill("e-2", None, 5, Side.SELL),  # the position's stop: no id of ours
    ]
    found = world.recovery.reconcile()
    assert [(f.action, f.ref) for f in found] == [
        (Action.FILL_RECORDED, "e-1"),
        (Action.FILL_RECORDED, "e-2"),
    ]
    stored = world.database.fills.since(ENV, T0 - timedelta(days=1))
    assert [f.trade_id for f in stored] == ["e-0", "e-1", "e-2"]
    assert world.recovery.reconcile() == []
    snapshot = world.database.state_store(ENV, FixedClock()).load(STATE_KEY)
    assert snapshot is not None
    assert snapshot["executions_from_ms"] == int((T0 - timedelta(minutes=5)).timestamp() * 1000)


def test_a_stored_position_the_venue_closed_is_stored_flat(world: World) -> None:
    world.database.positions.save(ENV, position("0.030").to_position())
    found = world.recovery.reconcile()
    assert [(f.action, f.detail) for f in found] == [(Action.POSITION_UPDATED, "flat")]
    stored = world.database.positions.get(ENV, BTC)
    assert stored is not None
    assert stored.size == 0


def test_a_venue_that_does_not_answer_keeps_trading_off_until_it_does(world: World) -> None:
    world.venue.down = True
    assert not world.recovery.agreed()
    assert "VenueUnavailableError" in world.recovery.failure
    assert world.health() == [Health.DEGRADED]
    world.venue.down = False
    assert world.recovery.agreed()
    assert world.health()[-1] is Health.OK


def test_a_failed_recovery_is_retried_no_sooner_than_its_interval(tmp_path: Path) -> None:
    database = Database.open(default_url(tmp_path))
    venue, now = FakeVenue(down=True), [100.0]
    recovery = Recovery(
        ENV, venue, database, LocalBus(), FixedClock(), retry_s=5.0, monotonic=lambda: now[0]
    )
    assert not recovery.agreed()
    venue.down = False
    now[0] = 104.0
    assert not recovery.agreed()  # not asked again yet
    now[0] = 105.0
    assert recovery.agreed()
    database.close()
