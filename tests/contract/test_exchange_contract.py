"""What every ``Exchange`` promises the engine: one set of expectations, run against each.

The implementations: the simulated exchange (backtest and paper) and the Bybit adapter over the
local emulator (demo / testnet / live), the latter through HTTP on loopback exactly as in a
live run. Both trade the wave of ``tests/emulator/conftest.py`` (1-minute BTCUSDT around
60,000, 100 bars of history) from a funded 10,000 USDT account at Bybit's VIP0 fees, and move
one bar at a time only when a test steps them, so every outcome is deterministic.

The tests speak only through the port and the harness (:class:`Venue`): no assertion knows
which implementation it runs against. Where the two answer differently in form, the harness
and the assertions keep to what the port promises:

* an order's answer is about its acceptance; fills are read back after the next bar (the
  venue reports fills on its streams, not in the create answer), from the position, the
  account and the open orders, which are each implementation's truth;
* a refused order is an :class:`OrderRejected` event with a reason, never an exception; a
  refused trading stop is a :class:`RejectedError` (the port returns nothing to carry it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.emulator.conftest import HISTORY_BARS, KEY, SECRET, make_emulator, wave_candles
from tradeplay.domain.errors import RejectedError
from tradeplay.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderRejected,
    OrderSubmitted,
)
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, OrderType, Price, Quantity, Side, utc_from_ms
from tradeplay.emulator import EmulatorThread
from tradeplay.emulator.config import DEFAULT_BALANCE, DEFAULT_LEVERAGE
from tradeplay.ports import Exchange, TradingStop
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.fees import FeeSchedule
from tradeplay.venues.bybit.config import (
    BybitCredentials,
    BybitEndpoints,
    BybitEnvironment,
    VenueConfig,
)

SYMBOL: Final = "BTCUSDT"
MINUTE: Final = Timeframe.parse("1m")
STARTING_CASH: Final = DEFAULT_BALANCE
FEES: Final = FeeSchedule.bybit("VIP0")
"""The emulator's accounts pay VIP0 rates (taker 0.055 %, maker 0.02 %); so does the simulator
here. The rates are the account's, not the instrument's: Bybit's instrument info carries none."""
QTY: Final = Decimal("0.01")


# ---------------------------------------------------------------- the harness


@dataclass
class Venue:
    """An ``Exchange`` and the market it trades, which moves one bar per :meth:`step`."""

    exchange: Exchange
    bars: NDArray[np.float64]
    """The shared candles, ``(ts, open, high, low, close, volume)`` rows."""
    cursor: int
    """The next bar to close: an order sent now first meets the market at its open."""
    advance: Callable[[int], None]
    """Close bar ``i`` at the implementation (its fills, stops and liquidations)."""
    clock: Callable[[], datetime]

    def step(self, bars: int = 1) -> None:
        for _ in range(bars):
            self.advance(self.cursor)
            self.cursor += 1

    def now(self) -> datetime:
        return self.clock()

    def price(self, bar: int, column: int) -> Price:
        """A price of a shared bar (the wave is on the 0.1 grid), exact."""
        return Decimal(str(round(float(self.bars[bar, column]), 1)))

    @property
    def next_open(self) -> Price:
        return self.price(self.cursor, 1)

    @property
    def last_close(self) -> Price:
        return self.price(self.cursor - 1, 4)

    def order(
        self,
        link_id: str,
        side: Side,
        qty: Quantity = QTY,
        *,
        price: Price | None = None,
        reduce_only: bool = False,
    ) -> OrderSubmitted:
        return OrderSubmitted(
            client_order_id=ClientOrderId(link_id),
            time=self.now(),
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            qty=qty,
            price=price,
            reduce_only=reduce_only,
        )


def shared_bars() -> NDArray[np.float64]:
    """The emulator's candles (``make_emulator`` replays the same wave) as one matrix."""
    candles = wave_candles()
    columns = candles.columns()
    names = ("ts", "open", "high", "low", "close", "volume")
    return np.column_stack([columns[name].astype(np.float64) for name in names])


@contextmanager
def simulated() -> Iterator[Venue]:
    """The simulated exchange, configured as the emulator configures an account's slot, and
    primed with the last history bar (as a slot is) so it knows the price."""
    bars = shared_bars()
    config = SimConfig(
        starting_cash=STARTING_CASH,
        funded_at=utc_from_ms(int(bars[HISTORY_BARS - 1, 0])),
        leverage=DEFAULT_LEVERAGE,
        fees=FEES,
        timeframe=MINUTE,
    )
    sim = SimulatedExchange(bybit_linear(SYMBOL), config)
    sim.advance(bars, HISTORY_BARS - 1, HISTORY_BARS)

    def advance(bar: int) -> None:
        sim.advance(bars, bar, bar + 1)

    yield Venue(sim, bars, HISTORY_BARS, advance, lambda: sim.now)


@contextmanager
def emulated() -> Iterator[Venue]:
    """The Bybit adapter, through a :class:`VenueSession`, against a stepped emulator.

    No streams are started: the contract is read over REST, the venue's truth. A step returns
    once the emulator has processed the bar (the replay step runs on its loop and is awaited),
    so the next REST read already sees its fills.
    """
    with EmulatorThread(make_emulator()) as handle:
        config = VenueConfig(
            environment=BybitEnvironment.DEMO,
            credentials=BybitCredentials(KEY, SECRET),
            endpoints=BybitEndpoints.local(handle.url),
            request_timeout_s=2.0,
        )
        session = VenueSession(config, SYMBOL, MINUTE)
        try:

            def advance(_: int) -> None:  # the emulator's replay knows which bar is next
                assert handle.step() == 1, "the emulator has no more bars"

            yield Venue(session.exchange, shared_bars(), HISTORY_BARS, advance, session.clock.now)
        finally:
            session.close()


IMPLEMENTATIONS: Final = {"simulated": simulated, "bybit-emulator": emulated}


@pytest.fixture(params=list(IMPLEMENTATIONS))
def venue(request: pytest.FixtureRequest) -> Iterator[Venue]:
    with IMPLEMENTATIONS[request.param]() as running:
        yield running


# ---------------------------------------------------------------- helpers


def rejection(events: Sequence[OrderEvent]) -> OrderRejected:
    assert len(events) == 1, events
    (event,) = events
    assert isinstance(event, OrderRejected), event
    return event


def accepted(events: Sequence[OrderEvent]) -> OrderAccepted:
    assert events, "the exchange gave no answer"
    first = events[0]
    assert isinstance(first, OrderAccepted), events
    assert not any(isinstance(e, OrderRejected) for e in events), events
    return first


def fee(qty: Quantity, price: Price, rate: Decimal) -> Decimal:
    return qty * price * rate


def assert_flat(venue: Venue) -> None:
    position = venue.exchange.position(SYMBOL)
    assert position.size == 0, position
    assert position.entry_price is None, position


# ---------------------------------------------------------------- the contract


def test_the_instrument_carries_bybit_s_trading_rules(venue: Venue) -> None:
    instrument = venue.exchange.instrument(SYMBOL)
    assert instrument.symbol == SYMBOL
    assert instrument.settle == "USDT"
    assert instrument.tick_size == Decimal("0.1")
    assert instrument.qty_step == Decimal("0.001")
    assert instrument.min_qty == Decimal("0.001")
    assert instrument.min_notional == Decimal("5")
    assert instrument.max_qty > instrument.min_qty
    assert instrument.max_market_qty > instrument.min_qty


def test_a_fresh_account_is_funded_flat_and_has_no_orders(venue: Venue) -> None:
    assert venue.exchange.account().wallet_balance == STARTING_CASH
    assert_flat(venue)
    assert venue.exchange.open_orders(SYMBOL) == ()
    assert venue.exchange.open_orders() == ()


def test_a_market_buy_is_accepted_and_fills_at_the_next_bar_s_open(venue: Venue) -> None:
    answer = accepted(venue.exchange.submit(venue.order("buy-1", Side.BUY)))
    assert answer.client_order_id == "buy-1"
    assert_flat(venue)  # nothing fills before the next bar meets the order
    opening = venue.next_open

    venue.step()

    position = venue.exchange.position(SYMBOL)
    assert position.size == QTY
    assert position.entry_price == opening
    assert venue.exchange.open_orders(SYMBOL) == ()
    expected = STARTING_CASH - fee(QTY, opening, FEES.taker)  # a market order takes liquidity
    assert venue.exchange.account().wallet_balance == expected


def test_a_market_sell_when_flat_opens_a_short(venue: Venue) -> None:
    accepted(venue.exchange.submit(venue.order("sell-1", Side.SELL)))
    opening = venue.next_open
    venue.step()
    position = venue.exchange.position(SYMBOL)
    assert position.size == -QTY
    assert position.entry_price == opening


def test_a_limit_order_rests_in_open_orders_until_cancelled(venue: Venue) -> None:
    far_below = Decimal("55000")
    accepted(venue.exchange.submit(venue.order("rest-1", Side.BUY, price=far_below)))
    venue.step(2)

    (order,) = venue.exchange.open_orders(SYMBOL)
    assert (order.client_order_id, order.side, order.order_type) == (
        "rest-1",
        Side.BUY,
        OrderType.LIMIT,
    )
    assert (order.qty, order.price, order.filled_qty) == (QTY, far_below, Decimal(0))
    assert order.status is OrderStatus.NEW
    assert [o.client_order_id for o in venue.exchange.open_orders()] == ["rest-1"]

    events = venue.exchange.cancel(SYMBOL, ClientOrderId("rest-1"))
    assert isinstance(events[-1], OrderCancelled), events
    assert events[-1].client_order_id == "rest-1"
    assert venue.exchange.open_orders(SYMBOL) == ()
    venue.step()
    assert_flat(venue)


def test_a_resting_limit_order_fills_at_its_price_as_a_maker(venue: Venue) -> None:
    """A buy below the market rests; when a later bar trades down through it, it fills at its
    own price (never better: no price improvement for a resting order) and pays the maker fee."""
    bar = venue.cursor + 1  # the first bar after the next whose low reaches the limit …
    limit = venue.price(bar, 3) + Decimal("10")
    assert limit < venue.price(venue.cursor, 3), "… and not the next bar already"
    accepted(venue.exchange.submit(venue.order("dip-1", Side.BUY, price=limit)))

    venue.step()
    assert [o.client_order_id for o in venue.exchange.open_orders(SYMBOL)] == ["dip-1"]
    venue.step()

    assert venue.exchange.open_orders(SYMBOL) == ()
    position = venue.exchange.position(SYMBOL)
    assert (position.size, position.entry_price) == (QTY, limit)
    expected = STARTING_CASH - fee(QTY, limit, FEES.maker)
    assert venue.exchange.account().wallet_balance == expected


def test_cancelling_an_unknown_order_answers_nothing_and_raises_nothing(venue: Venue) -> None:
    assert list(venue.exchange.cancel(SYMBOL, ClientOrderId("never-sent"))) == []
    assert venue.exchange.open_orders(SYMBOL) == ()


def test_an_order_below_the_minimum_quantity_is_rejected_naming_the_minimum(
    venue: Venue,
) -> None:
    refused = rejection(venue.exchange.submit(venue.order("tiny-1", Side.BUY, Decimal("0.0001"))))
    assert refused.client_order_id == "tiny-1"
    assert "minimum" in refused.reason, refused.reason
    assert "0.001" in refused.reason, refused.reason
    venue.step()
    assert_flat(venue)
    assert venue.exchange.open_orders(SYMBOL) == ()


def test_an_order_the_account_cannot_afford_is_rejected(venue: Venue) -> None:
    """10 BTC at ~60,000 at 10x needs ~60,000 USDT of margin; the wallet holds 10,000."""
    refused = rejection(venue.exchange.submit(venue.order("huge-1", Side.BUY, Decimal("10"))))
    assert refused.reason
    venue.step()
    assert_flat(venue)
    assert venue.exchange.account().wallet_balance == STARTING_CASH


def test_a_reduce_only_order_when_flat_is_rejected(venue: Venue) -> None:
    refused = rejection(venue.exchange.submit(venue.order("reduce-1", Side.SELL, reduce_only=True)))
    assert refused.reason
    venue.step()
    assert_flat(venue)
    assert venue.exchange.open_orders(SYMBOL) == ()


def test_a_reduce_only_order_closes_an_open_position(venue: Venue) -> None:
    accepted(venue.exchange.submit(venue.order("open-1", Side.BUY)))
    venue.step()
    accepted(venue.exchange.submit(venue.order("close-1", Side.SELL, reduce_only=True)))
    venue.step()
    assert_flat(venue)


def test_a_duplicate_client_order_id_is_refused(venue: Venue) -> None:
    """Our id (Bybit ``orderLinkId``) names one order only; a second order under it is refused,
    whether the first is still working or already filled, and the first is left as it was."""
    far_below = Decimal("55000")
    accepted(venue.exchange.submit(venue.order("same-1", Side.BUY, price=far_below)))
    again = venue.order("same-1", Side.BUY, price=Decimal("54000"))
    refused = rejection(venue.exchange.submit(again))
    assert "duplicate" in refused.reason.lower(), refused.reason
    (order,) = venue.exchange.open_orders(SYMBOL)
    assert (order.client_order_id, order.price) == ("same-1", far_below)

    accepted(venue.exchange.submit(venue.order("market-1", Side.BUY)))
    venue.step()
    refused = rejection(venue.exchange.submit(venue.order("market-1", Side.BUY)))
    assert "duplicate" in refused.reason.lower(), refused.reason
    venue.step()
    assert venue.exchange.position(SYMBOL).size == QTY  # filled once, not twice


@pytest.mark.parametrize(
    ("side", "leg"),
    [(Side.BUY, "stop_loss"), (Side.SELL, "take_profit")],
    ids=["long-stop-loss", "short-take-profit"],
)
def test_a_trading_stop_closes_the_position_when_the_price_reaches_it(
    venue: Venue, side: Side, leg: str
) -> None:
    """The wave falls for the next few bars: 50 below the entry, a long's stop-loss and a
    short's take-profit are both reached two bars after the entry (not in the entry bar). The
    position closes there as a taker at the level (the bar opens above it: no gap)."""
    accepted(venue.exchange.submit(venue.order("entry-1", side)))
    entry = venue.next_open
    venue.step()
    level = entry - Decimal("50")
    assert venue.price(venue.cursor - 1, 3) > level, "the entry bar must not reach the level"
    assert venue.price(venue.cursor, 3) <= level < venue.price(venue.cursor, 1)
    venue.exchange.set_trading_stop(TradingStop(SYMBOL, **{leg: level}))

    venue.step()

    assert_flat(venue)
    pnl = (level - entry) * QTY * side.sign
    fees = fee(QTY, entry, FEES.taker) + fee(QTY, level, FEES.taker)
    assert venue.exchange.account().wallet_balance == STARTING_CASH + pnl - fees


def test_a_fired_trading_stop_leaves_no_order_working(venue: Venue) -> None:
    """The position's protection is not an order of ours: before it fires it is not in the
    open orders, and the market order that closes the position is done once it filled."""
    accepted(venue.exchange.submit(venue.order("entry-1", Side.BUY)))
    level = venue.next_open - Decimal("50")  # reached two bars on, as above
    venue.step()
    venue.exchange.set_trading_stop(TradingStop(SYMBOL, stop_loss=level))
    assert venue.exchange.open_orders(SYMBOL) == ()
    venue.step()
    assert_flat(venue)
    assert venue.exchange.open_orders(SYMBOL) == ()


def test_a_removed_trading_stop_no_longer_fires(venue: Venue) -> None:
    accepted(venue.exchange.submit(venue.order("entry-1", Side.BUY)))
    venue.step()
    level = venue.exchange.position(SYMBOL).entry_price
    assert level is not None
    venue.exchange.set_trading_stop(TradingStop(SYMBOL, stop_loss=level - Decimal("50")))
    venue.exchange.set_trading_stop(TradingStop(SYMBOL))  # all None: remove
    venue.step(3)
    assert venue.exchange.position(SYMBOL).size == QTY


@pytest.mark.parametrize(
    "stop",
    [
        TradingStop(SYMBOL, stop_loss=Decimal("70000")),
        TradingStop(SYMBOL, take_profit=Decimal("50000")),
    ],
    ids=["stop-loss-above", "take-profit-below"],
)
def test_a_trading_stop_on_the_wrong_side_of_the_price_is_refused(
    venue: Venue, stop: TradingStop
) -> None:
    """For a long a stop-loss must be below the price and a take-profit above it: a leg that
    would fire at once is refused (as Bybit does), and the position keeps going unprotected."""
    accepted(venue.exchange.submit(venue.order("entry-1", Side.BUY)))
    venue.step()
    with pytest.raises(RejectedError):
        venue.exchange.set_trading_stop(stop)
    venue.step()
    assert venue.exchange.position(SYMBOL).size == QTY


def test_a_trading_stop_without_a_position_is_refused(venue: Venue) -> None:
    with pytest.raises(RejectedError):
        venue.exchange.set_trading_stop(TradingStop(SYMBOL, stop_loss=Decimal("50000")))
