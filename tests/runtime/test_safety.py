"""The limits of an environment and of all environments: each blocks or reduces an order as
stated, before it reaches the exchange port; daily loss resets at 00:00 UTC; the emergency
protocol freezes, flattens and notifies, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from tests.store.builders import fill
from tradeplay import notify
from tradeplay.domain.account import Account
from tradeplay.domain.events import OrderEvent, OrderFilled, OrderRejected, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.values import ClientOrderId, OrderType, PositionSide, Side, Symbol
from tradeplay.engine.risk import RiskLimits
from tradeplay.notify import Event, LocalBus, StopLossHit, TakeProfitHit
from tradeplay.play import load_play
from tradeplay.ports import TradingStop
from tradeplay.runtime.emergency import EmergencyProtocol
from tradeplay.runtime.guard import EnvironmentGuard
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.recorder import RecordedExchange, Recorder
from tradeplay.runtime.safety import (
    ALL,
    Breach,
    GroupLimits,
    Opening,
    RiskBook,
    stored_risk_state,
)
from tradeplay.runtime.worker import Flatten
from tradeplay.store import (
    Database,
    DeploymentState,
    EquitySnapshot,
    RiskEventRecord,
    default_url,
)

PLAY = load_play(Path(__file__).resolve().parents[2] / "plays" / "ema_cross.yaml")  # leverage 3
PRICE = Decimal(50000)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime = NOON

    def now(self) -> datetime:
        return self.at


@dataclass
class Venue:
    """A recording exchange: what reached it, in order; its positions and open orders as set."""

    wallet: Decimal = Decimal(10000)
    sizes: dict[Symbol, Decimal] = field(default_factory=dict)
    resting: list[Order] = field(default_factory=list)
    sent: list[OrderSubmitted] = field(default_factory=list)
    reads: int = 0
    """Position reads (each a REST round trip while an order is on its way)."""

    def instrument(self, symbol: Symbol) -> Instrument:
        return bybit_linear(symbol)

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        self.sent.append(order)
        return ()

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        return ()

    def set_trading_stop(self, stop: TradingStop) -> None:
        pass

    def open_orders(self, symbol: Symbol | None = None) -> Sequence[Order]:
        return [o for o in self.resting if symbol in (None, o.symbol)]

    def position(self, symbol: Symbol) -> Position:
        self.reads += 1
        size = self.sizes.get(symbol, Decimal(0))
        if size == 0:
            return Position(symbol=symbol)
        return Position(symbol=symbol, size=size, entry_price=PRICE, cost_basis=size * PRICE)

    def account(self) -> Account:
        return Account.funded("USDT", self.wallet)


def book(
    demo: GroupLimits | None = None,
    live: GroupLimits | None = None,
    overall: GroupLimits | None = None,
) -> RiskBook:
    return RiskBook(
        {"demo": demo or GroupLimits(), "live": live or GroupLimits()},
        overall or GroupLimits(),
        {"demo": Decimal(10000), "live": Decimal(10000)},
    )


def guard(  # a pair is its environment, play, symbol and capital
    risk: RiskBook,
    venue: Venue,
    breaches: list[Breach],
    *,
    environment: str = "demo",
    play: str = "ema",
    symbol: str = "BTCUSDT",
    capital: Decimal = Decimal(10000),
    shared: bool = False,
    clock: Clock | None = None,
) -> EnvironmentGuard:
    pair = Pair(
        key=PairKey(environment, play),
        play=PLAY,
        symbol=Symbol(symbol),
        capital=capital,
        limits=RiskLimits(),
    )
    made = EnvironmentGuard(venue, pair, risk, breaches.append, clock or Clock(), shared=shared)
    made.on_bar(np.array([0.0, 50000.0, 50000.0, 50000.0, 50000.0, 1.0]), ())
    return made


def buy(
    qty: str, symbol: str = "BTCUSDT", *, reduce_only: bool = False, n: int = 1
) -> OrderSubmitted:
    return OrderSubmitted(
        client_order_id=ClientOrderId(f"ema-{n}"),
        time=NOON,
        symbol=Symbol(symbol),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal(qty),
        reduce_only=reduce_only,
    )


def rejected(events: Sequence[OrderEvent]) -> str:
    (event,) = events
    assert isinstance(event, OrderRejected)
    return event.reason


# -- blocks --------------------------------------------------------------------------------------


def test_max_open_orders_counts_every_pair_of_the_environment_and_blocks() -> None:
    risk, breaches = book(demo=GroupLimits(max_open_orders=2)), []
    btc, eth = Venue(resting=[Order.from_submitted(buy("0.001", n=9))]), Venue()
    eth.resting = [Order.from_submitted(buy("0.01", "ETHUSDT", n=8))]
    guard(risk, btc, breaches)
    trading = guard(risk, eth, breaches, play="eth", symbol="ETHUSDT")
    reason = rejected(trading.submit(buy("0.1", "ETHUSDT")))
    assert eth.sent == []  # it never reached the exchange
    assert reason == "risk limit: environment demo has 2 orders open, the most it allows is 2"
    assert [(b.environment, b.rule, b.action, b.deployment) for b in breaches] == [
        ("demo", "max_open_orders", "block", "eth")
    ]


def test_an_open_order_of_another_environment_does_not_count_but_a_global_limit_does() -> None:
    risk, breaches = book(demo=GroupLimits(max_open_orders=1)), []
    guard(
        risk, Venue(resting=[Order.from_submitted(buy("0.001", n=9))]), breaches, environment="live"
    )
    demo = Venue()
    guard(risk, demo, breaches).submit(buy("0.1"))
    assert [o.qty for o in demo.sent] == [Decimal("0.1")]

    risk = book(overall=GroupLimits(max_open_orders=1))
    guard(
        risk, Venue(resting=[Order.from_submitted(buy("0.001", n=9))]), breaches, environment="live"
    )
    demo = Venue()
    reason = rejected(guard(risk, demo, breaches).submit(buy("0.1")))
    assert demo.sent == []
    assert reason == "risk limit: all environments has 1 orders open, the most it allows is 1"
    assert breaches[-1].rule == "global_max_open_orders"


def test_the_kill_switch_blocks_new_risk_but_an_exit_always_passes() -> None:
    risk, breaches = book(overall=GroupLimits(kill_switch=True)), []
    venue = Venue(sizes={Symbol("BTCUSDT"): Decimal("-0.2")})
    trading = guard(risk, venue, breaches)
    trading.submit(buy("0.3", n=1))  # 0.2 of it closes the short: only that part leaves
    assert [o.qty for o in venue.sent] == [Decimal("0.2")]
    trading.submit(buy("0.5", reduce_only=True, n=2))
    assert [o.qty for o in venue.sent] == [Decimal("0.2"), Decimal("0.5")]
    venue.sizes.clear()
    trading.refresh()
    reason = rejected(trading.submit(buy("0.1", n=3)))
    assert reason == "risk limit: the kill switch of all environments is on"
    assert len(venue.sent) == 2


def test_what_a_pending_close_already_closes_an_order_cannot_close_again() -> None:
    """A close not yet filled (a market order meets the next bar) leaves the position as it
    was: an entry the other way right after it opens new risk, and the limits apply."""
    risk, breaches = book(overall=GroupLimits(kill_switch=True)), []
    venue = Venue(sizes={Symbol("BTCUSDT"): Decimal("-0.2")})
    trading = guard(risk, venue, breaches)
    trading.submit(buy("0.2", n=1))  # closes the short, at the venue until the next bar
    venue.resting = [Order.from_submitted(buy("0.2", n=1))]
    reason = rejected(trading.submit(buy("0.2", n=2)))
    assert reason == "risk limit: the kill switch of all environments is on"
    assert [o.qty for o in venue.sent] == [Decimal("0.2")]


def test_an_entry_after_a_close_is_measured_without_asking_the_venue_again() -> None:
    """The close's outcome is on its way: the guard counts what it closes itself, and reads
    the venue again at the next bar."""
    risk, breaches = book(overall=GroupLimits(kill_switch=True)), []
    venue = Venue(sizes={Symbol("BTCUSDT"): Decimal("-0.2")})
    trading = guard(risk, venue, breaches)
    reads = venue.reads
    trading.submit(buy("0.2", n=1))
    reason = rejected(trading.submit(buy("0.2", n=2)))
    assert reason == "risk limit: the kill switch of all environments is on"
    assert venue.reads == reads
    venue.sizes.clear()  # the close filled at the next bar
    trading.on_bar(np.array([60_000.0, 5e4, 5e4, 5e4, 5e4, 1.0]), ())
    assert venue.reads == reads + 1


def test_a_play_trading_above_the_environment_leverage_is_blocked() -> None:
    risk, breaches = book(live=GroupLimits(max_leverage=Decimal(2))), []
    venue = Venue()
    reason = rejected(guard(risk, venue, breaches, environment="live").submit(buy("0.01")))
    assert venue.sent == []
    assert reason == (
        "risk limit: the play trades with 3× leverage; environment live allows at most 2×"
    )
    assert (breaches[0].value, breaches[0].threshold) == (Decimal(3), Decimal(2))


def test_a_frozen_environment_blocks_new_risk_until_the_operator_resumes() -> None:
    risk, breaches = book(), []
    venue = Venue()
    trading = guard(risk, venue, breaches)
    risk.freeze("demo", "drawdown 21 %")
    assert rejected(trading.submit(buy("0.01"))) == (
        "risk limit: environment demo is halted: drawdown 21 %"
    )
    trading.submit(buy("0.01", reduce_only=True, n=2))
    risk.resume("demo")
    trading.submit(buy("0.01", n=3))
    assert [(o.client_order_id, o.reduce_only) for o in venue.sent] == [
        ("ema-2", True),
        ("ema-3", False),
    ]


# -- reductions ----------------------------------------------------------------------------------


def test_max_position_notional_reduces_the_order_to_the_headroom() -> None:
    risk, breaches = book(demo=GroupLimits(max_position_notional=Decimal(5000))), []
    venue = Venue(sizes={Symbol("BTCUSDT"): Decimal("0.04")})  # 2000 held
    guard(risk, venue, breaches).submit(buy("0.1"))
    assert [o.qty for o in venue.sent] == [Decimal("0.06")]  # 3000 more
    assert [(b.rule, b.action, b.value, b.threshold) for b in breaches] == [
        ("max_position_notional", "reduce", Decimal("5000.0"), Decimal(5000))
    ]


def test_the_global_position_notional_adds_the_symbol_across_environments() -> None:
    risk = book(overall=GroupLimits(max_position_notional=Decimal(7500)))
    breaches: list[Breach] = []
    guard(risk, Venue(sizes={Symbol("BTCUSDT"): Decimal("0.06")}), breaches)  # 3000 in demo
    live = Venue()
    guard(risk, live, breaches, environment="live").submit(buy("0.1"))
    assert [o.qty for o in live.sent] == [Decimal("0.09")]
    assert [(b.environment, b.rule) for b in breaches] == [("live", "global_max_position_notional")]


def test_a_pair_sizes_from_and_may_not_exceed_its_capital_share() -> None:
    risk, breaches = book(), []
    venue = Venue(wallet=Decimal(10000))
    trading = guard(risk, venue, breaches, capital=Decimal(2500), shared=True)
    assert trading.account().wallet_balance == Decimal(2500)
    trading.account().check_balanced()
    trading.submit(buy("0.2"))  # 10000 wanted; 2500 × 3 leverage = 7500
    assert [o.qty for o in venue.sent] == [Decimal("0.15")]
    assert breaches[0].rule == "capital_share"


def test_total_exposure_counts_the_other_pairs_and_the_environment_equity() -> None:
    risk = book(demo=GroupLimits(max_total_exposure=Decimal(1)))
    risk.observe("demo", Decimal(10000), NOON)
    breaches: list[Breach] = []
    guard(
        risk, Venue(sizes={Symbol("ETHUSDT"): Decimal(4)}), breaches, play="eth", symbol="ETHUSDT"
    )
    risk.note(PairKey("demo", "eth"), mark=Decimal(2000))  # 8000 of ETH
    venue = Venue()
    guard(risk, venue, breaches).submit(buy("0.1"))
    assert [o.qty for o in venue.sent] == [Decimal("0.04")]
    assert [b.rule for b in breaches] == ["max_total_exposure"]


def test_what_a_check_lets_through_is_reserved_for_the_next_one() -> None:
    """Two pairs' threads cannot both spend the same headroom: the second check sees the
    first order before the venue reports it."""
    risk, breaches = book(demo=GroupLimits(max_position_notional=Decimal(5000))), []
    guard(risk, Venue(), breaches)
    opening = Opening(
        key=PairKey("demo", "ema"),
        instrument=bybit_linear(Symbol("BTCUSDT")),
        qty=Decimal("0.06"),
        price=PRICE,
        leverage=Decimal(1),
        share_equity=Decimal(10000),
        time=NOON,
    )
    assert risk.check(opening)[0] == Decimal("0.06")
    assert risk.check(opening)[0] == Decimal("0.04")


def test_a_reduction_below_the_minimum_blocks_with_the_instrument_rule() -> None:
    risk, breaches = book(demo=GroupLimits(max_position_notional=Decimal(30))), []
    venue = Venue()
    reason = rejected(guard(risk, venue, breaches).submit(buy("0.01")))
    assert venue.sent == []
    assert reason == (
        "risk limit: max_position_notional: 500 USDT more would go over 30 (30 left); what is "
        "left: less than one step of 0.001 BTC"
    )
    assert [b.action for b in breaches] == ["block"]


# -- daily loss ----------------------------------------------------------------------------------


def test_daily_loss_blocks_until_midnight_utc_not_24_hours_after_the_first_trade() -> None:
    clock = Clock(NOON)
    risk, breaches = book(demo=GroupLimits(max_daily_loss_percent=Decimal(5))), []
    assert risk.observe("demo", Decimal(10000), NOON) == []
    late = NOON.replace(hour=20)
    (noted,) = risk.observe("demo", Decimal(9400), late)
    assert (noted.rule, noted.action, noted.value) == ("daily_loss", "block", Decimal(6))
    assert risk.observe("demo", Decimal(9390), late.replace(minute=1)) == []  # once a day
    venue = Venue()
    trading = guard(risk, venue, breaches, clock=clock)
    clock.at = NOON.replace(hour=23, minute=59, second=59)
    reason = rejected(trading.submit(buy("0.01")))
    assert reason == (
        "risk limit: environment demo: daily loss 6.1 % reached the 5 % limit for 2026-03-02 "
        "(UTC); new entries resume after 00:00 UTC"
    )
    clock.at = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 12 hours after the first trade
    trading.submit(buy("0.01", n=2))
    assert [o.client_order_id for o in venue.sent] == ["ema-2"]


def _stored(database: Database, *readings: tuple[datetime, str]) -> None:
    for time, equity in readings:
        snapshot = EquitySnapshot(
            time=time,
            equity=Decimal(equity),
            wallet_balance=Decimal(equity),
            unrealized_pnl=Decimal(0),
        )
        database.equity.record("demo", snapshot)


def _restarted(database: Database, limits: GroupLimits) -> RiskBook:
    """A new run's book, seeded from the store as the supervisor seeds it."""
    risk = book(demo=limits)
    risk.seed("demo", stored_risk_state(database, "demo"))
    return risk


def test_a_daily_loss_block_outlives_a_restart_the_same_day_and_ends_at_midnight_utc(
    tmp_path: Path,
) -> None:
    database = Database.open(default_url(tmp_path))
    limits = GroupLimits(max_daily_loss_percent=Decimal(5))
    yesterday = NOON.replace(day=1, hour=23)
    _stored(database, (yesterday, "11000"), (NOON.replace(hour=8), "10000"))
    _stored(database, (NOON.replace(hour=20), "9400"))  # 6 % down since 00:00 UTC
    restarted = NOON.replace(hour=21)
    risk, breaches, venue = _restarted(database, limits), list[Breach](), Venue()
    (noted,) = risk.observe("demo", Decimal(9400), restarted)  # 6 % of the day's 10000
    assert (noted.rule, noted.value) == ("daily_loss", Decimal(6))
    reason = rejected(guard(risk, venue, breaches, clock=Clock(restarted)).submit(buy("0.01")))
    assert reason.startswith("risk limit: environment demo: daily loss 6 % reached the 5 %")

    tomorrow = datetime(2026, 3, 3, 0, 0, 5, tzinfo=UTC)  # restarted again after midnight
    risk, venue = _restarted(database, limits), Venue()
    assert risk.observe("demo", Decimal(9400), tomorrow) == []
    guard(risk, venue, breaches, clock=Clock(tomorrow)).submit(buy("0.01", n=2))
    assert [o.client_order_id for o in venue.sent] == ["ema-2"]
    database.close()


def test_a_drawdown_is_measured_across_a_restart_from_the_peak_since_the_last_breach(
    tmp_path: Path,
) -> None:
    database = Database.open(default_url(tmp_path))
    limits = GroupLimits(max_drawdown_percent=Decimal(10))
    _stored(database, (NOON.replace(hour=1), "10000"), (NOON.replace(hour=2), "11000"))
    _stored(database, (NOON.replace(hour=3), "10200"))
    (breach,) = _restarted(database, limits).observe("demo", Decimal(9900), NOON)
    assert (breach.rule, breach.value) == ("max_drawdown", Decimal(10))  # 1100 of 11000

    # That breach halted it; the operator's resume restarts the peak (here: after the breach).
    database.risk_events.record(
        "demo", RiskEventRecord(time=NOON, rule="max_drawdown", action="emergency")
    )
    _stored(database, (NOON, "9900"), (NOON.replace(hour=13), "9950"))
    later = NOON.replace(hour=14)
    assert _restarted(database, limits).observe("demo", Decimal(9700), later) == []  # 2.5 % down
    database.close()


# -- drawdown and the emergency protocol ---------------------------------------------------------


def test_a_drawdown_breach_freezes_its_environment_at_once_and_the_global_one() -> None:
    risk = book(
        demo=GroupLimits(max_drawdown_percent=Decimal(10)),
        overall=GroupLimits(max_drawdown_percent=Decimal(20)),
    )
    assert risk.observe("demo", Decimal(12000), NOON) == []  # 2000 above its capital: set aside
    assert risk.observe("live", Decimal(10000), NOON) == []
    assert risk.observe_all(NOON) == []  # 20000 together
    (breach,) = risk.observe("demo", Decimal(10900), NOON.replace(hour=13))
    assert (breach.environment, breach.rule, breach.action) == ("demo", "max_drawdown", "emergency")
    assert breach.value == Decimal(11)  # 8900 of 10000, not 10900 of 12000
    assert risk.frozen("demo").startswith(
        "trading halted: drawdown 11 % from the equity peak 10000"
    )
    assert risk.frozen("live") == "" == risk.frozen(ALL)
    assert risk.observe_all(NOON.replace(hour=13)) == []  # 18900: 5.5 % down
    assert risk.observe("live", Decimal(7000), NOON.replace(hour=14)) == []
    (overall,) = risk.observe_all(NOON.replace(hour=14))  # 15900: 20.5 % down
    assert (overall.environment, overall.rule) == (ALL, "global_max_drawdown")
    assert risk.frozen(ALL) != ""


def test_resuming_a_paused_pair_keeps_the_drawdown_peak_a_halt_restarts_it() -> None:
    risk = book(demo=GroupLimits(max_drawdown_percent=Decimal(10)))
    assert risk.observe("demo", Decimal(10000), NOON) == []
    assert risk.observe("demo", Decimal(9500), NOON.replace(hour=13)) == []
    risk.resume("demo")  # an operator's pause and resume: nothing was halted
    (breach,) = risk.observe("demo", Decimal(8900), NOON.replace(hour=14))
    assert breach.value == Decimal(11)  # from the peak of 10000, not from 9500
    risk.resume("demo")  # the operator lifts the halt: the peak starts again here
    assert risk.frozen("demo") == ""
    assert risk.observe("demo", Decimal(8500), NOON.replace(hour=15)) == []  # 4.5 % of 8900


def test_a_check_does_not_move_the_day_readings_are_measured_against() -> None:
    """The daily-loss check reads the state; a check stamped later than the last equity
    reading must not make the next reading late (and lost)."""
    risk, breaches = book(demo=GroupLimits(max_daily_loss_percent=Decimal(5))), []
    venue = Venue()
    trading = guard(risk, venue, breaches, clock=Clock(NOON.replace(hour=14)))
    assert risk.observe("demo", Decimal(10000), NOON) == []
    trading.submit(buy("0.01", n=1))  # checked at 14:00
    (loss,) = risk.observe("demo", Decimal(9400), NOON.replace(hour=13))  # read at 13:00
    assert (loss.rule, loss.value) == ("daily_loss", Decimal(6))


@dataclass
class Worker:
    """A pair's worker as the protocol sees it: its pair, and a panic that logs when it runs."""

    pair: Pair
    timeline: list[object]
    risk: RiskBook
    database: Database

    def panic(self) -> Future[Flatten]:
        stored = self.database.deployments.get(self.pair.key.environment, self.pair.key.play)
        assert stored is not None
        self.timeline.append(
            ("flatten", str(self.pair.key), self.risk.frozen("demo"), stored.state)
        )
        done: Future[Flatten] = Future()
        if self.pair.key.play != "slow":
            done.set_result(Flatten("1 orders cancelled, closing 0.1 BTCUSDT", flat=True))
        return done  # the slow pair's never answers


def test_the_emergency_protocol_freezes_then_flattens_then_notifies(tmp_path: Path) -> None:
    database = Database.open(default_url(tmp_path))
    for play in ("ema", "eth", "slow"):
        database.deployments.register("demo", play, play, Decimal(1), NOON)
        database.deployments.move("demo", play, DeploymentState.STARTING, NOON)
        database.deployments.move("demo", play, DeploymentState.RUNNING, NOON)
    risk, timeline = book(), []
    bus = LocalBus()
    bus.subscribe(lambda event: timeline.append(type(event).__name__))

    def halt(pair: Pair, reason: str) -> None:
        timeline.append(("halt", str(pair.key)))
        database.deployments.move("demo", pair.key.play, DeploymentState.EMERGENCY, NOON, reason)

    protocol = EmergencyProtocol(risk, database, bus, Clock(), halt, flatten_timeout_s=0.05)
    workers = [
        Worker(
            Pair(
                key=PairKey("demo", p),
                play=PLAY,
                symbol=Symbol("BTCUSDT"),
                capital=Decimal(1),
                limits=RiskLimits(),
            ),
            timeline,
            risk,
            database,
        )
        for p in ("ema", "eth", "slow")
    ]
    breach = Breach(
        environment="demo",
        rule="max_drawdown",
        action="emergency",
        time=NOON,
        detail="drawdown 11 %",
        value=Decimal(11),
        threshold=Decimal(10),
    )
    done = protocol.run(["demo"], workers, "drawdown 11 %", breach)  # type: ignore[arg-type]
    assert timeline == [
        ("halt", "ema@demo"),
        ("halt", "eth@demo"),
        ("halt", "slow@demo"),
        ("flatten", "ema@demo", "drawdown 11 %", DeploymentState.EMERGENCY),
        ("flatten", "eth@demo", "drawdown 11 %", DeploymentState.EMERGENCY),
        ("flatten", "slow@demo", "drawdown 11 %", DeploymentState.EMERGENCY),
        "RiskBreached",
        "EmergencyDeclared",
    ]
    assert done == (
        "ema@demo: 1 orders cancelled, closing 0.1 BTCUSDT; "
        "eth@demo: 1 orders cancelled, closing 0.1 BTCUSDT; "
        "slow@demo: did not answer within 0.05 s"
    )
    (stored,) = database.risk_events.since("demo", NOON)
    assert (stored.rule, stored.action, stored.value) == ("max_drawdown", "emergency", Decimal(11))
    database.close()


def test_a_fill_of_the_exchanges_stop_loss_or_take_profit_is_told_as_such(tmp_path: Path) -> None:
    database = Database.open(default_url(tmp_path))
    bus, seen = LocalBus(), list[Event]()
    bus.subscribe(seen.append)
    recorded = RecordedExchange(Venue(), Recorder(PairKey("demo", "ema"), database, bus, Clock()))
    for trade, link in (("e-1", "sl-3"), ("e-2", "tp-4"), ("e-3", "ema-5"), ("e-1", "sl-3")):
        made = fill(trade, client_order_id=link)
        recorded.apply(
            [OrderFilled(client_order_id=made.client_order_id, time=made.time, fill=made)]
        )
    told = [
        (type(e).__name__, e.side, e.price, e.qty)
        for e in seen
        if isinstance(e, StopLossHit | TakeProfitHit)
    ]
    # A buy closes a short; the second sl-3 fill is the same execution again: told once.
    assert told == [
        ("StopLossHit", PositionSide.SHORT, Decimal("42000.50"), Decimal("0.005")),
        ("TakeProfitHit", PositionSide.SHORT, Decimal("42000.50"), Decimal("0.005")),
    ]
    assert sum(isinstance(e, notify.OrderFilled) for e in seen) == 3
    database.close()
