"""The money side of the simulated exchange: fills, fees, funding, margin and liquidation.

Every fill goes through :meth:`Position.apply_fill` (the one place PnL is computed) and then
the :class:`~tradeplay.sim.ledger.Ledger` (the one place cash moves), so the ledger identity —
starting cash + realized PnL − fees − funding (+ insurance credit) = wallet balance — holds to
the last digit after every booking. Margin, liquidation and bankruptcy prices come from
:mod:`tradeplay.sim.margin`; funding payments from :mod:`tradeplay.sim.funding`.

Liquidation (see also :mod:`tradeplay.sim.margin`)
    The liquidation price is turned into a level in ticks *rounded against the trader* (down
    for a long, up for a short: the first tick at or beyond it), so the walk fires it at the
    first price on the bar's path that breaches the maintenance margin — pessimistically the
    bar's worst price, where the walk visits it. The position is then taken over whole at the
    **bankruptcy price** (on the tick grid, in the trader's favour), the taker fee on that
    takeover is the liquidation fee, and a wallet left below zero is brought back to zero by the
    insurance fund (Bybit never lets an account owe). The takeover is a fill without a client
    order id (``Fill.client_order_id`` is ``None``, venue order id ``sim-liq-<n>``), announced
    as an :class:`OrderFilled` for the exchange's own order ``liq-<n>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Final

from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.position import Position
from tradeplay.domain.values import (
    ZERO,
    ClientOrderId,
    Liquidity,
    MarginMode,
    Money,
    OrderId,
    Price,
    Quantity,
    Side,
)
from tradeplay.sim import margin
from tradeplay.sim.book import Ids, WorkingOrder
from tradeplay.sim.fees import FeeSchedule
from tradeplay.sim.funding import settle
from tradeplay.sim.ledger import Ledger

__all__ = ["Clearing"]

_CENT: Final = Decimal("0.01")

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_ISOLATED, _BUY = MarginMode.ISOLATED, Side.BUY


def _cents(amount: Money) -> str:
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_EVEN))


class Clearing:
    """Position, ledger and margin of one symbol on one simulated account."""

    __slots__ = (
        "_cost_bound",
        "_ids",
        "_line",
        "_record",
        "fees",
        "fills",
        "instrument",
        "ledger",
        "leverage",
        "liquidation_level",
        "liquidation_rising",
        "mode",
        "position",
    )

    def __init__(
        self,
        instrument: Instrument,
        fees: FeeSchedule,
        ids: Ids,
        *,
        leverage: Decimal,
        mode: MarginMode,
        record: bool = True,
    ) -> None:
        self.instrument = instrument
        self.fees = fees
        self.leverage = leverage
        self.mode = mode
        self._ids = ids
        self.position = Position(symbol=instrument.symbol)
        self.ledger = Ledger(instrument.settle, record=record)
        self.fills: list[Fill] = []
        """Every execution booked, in order (the run's fill record); none when not ``record``."""
        self._record = record
        self.liquidation_level: float | None = None
        """The liquidation price in ticks (rounded against the trader); ``None``: none."""
        self.liquidation_rising = False
        """Whether a rise (a short) or a fall (a long) reaches the liquidation level."""
        self._line: tuple[float, float, float] | None = None
        inverse = 1 / leverage
        self._cost_bound = inverse + instrument.taker_fee_rate * (2 + inverse)

    # ---------------------------------------------------------------- bookings

    def book_fill(  # noqa: PLR0917
        self,
        order_id: OrderId,
        client_order_id: ClientOrderId | None,
        side: Side,
        qty: Quantity,
        price: Price,
        liquidity: Liquidity,
        time: datetime,
    ) -> Fill:
        """One execution: fee, position, ledger, new liquidation level."""
        fill = Fill(
            trade_id=self._ids.trade(),
            order_id=order_id,
            client_order_id=client_order_id,
            symbol=self.instrument.symbol,
            side=side,
            qty=qty,
            price=price,
            fee=self.fees.fee(qty, price, liquidity),
            fee_currency=self.ledger.coin,
            liquidity=liquidity,
            time=time,
        )
        self._apply(fill, liquidation=False)
        return fill

    def settle_funding(self, time: datetime, rate: Decimal, mark: Price) -> FundingApplied | None:
        """The settlement of the position held now; ``None`` when flat (nothing is paid)."""
        event = settle(self.position, time, rate, mark)
        if event is None:
            return None
        self.position = self.position.apply_funding(event)
        self.ledger.book_funding(event)
        self._refresh_liquidation()  # cross: the wallet backing the position changed
        return event

    def breach(self, mark: Price) -> margin.LiquidationTrigger | None:
        """The liquidation due if the mark is ``mark``, or ``None`` while margin suffices."""
        holding = margin.Holding(
            instrument=self.instrument,
            position=self.position,
            mark_price=mark,
            position_margin=self._isolated_margin(),
        )
        return margin.check_liquidation([holding], self.mode, self.ledger.wallet_balance)

    def take_over(
        self, trigger: margin.LiquidationTrigger, order_id: OrderId, time: datetime
    ) -> Fill:
        """Close the whole position at the bankruptcy price, charging the liquidation fee."""
        fill = Fill(
            trade_id=self._ids.trade(),
            order_id=order_id,
            client_order_id=None,
            symbol=self.instrument.symbol,
            side=trigger.close_side,
            qty=abs(trigger.size),
            price=trigger.bankruptcy_price,
            fee=trigger.liquidation_fee,
            fee_currency=self.ledger.coin,
            liquidity=Liquidity.TAKER,
            time=time,
        )
        self._apply(fill, liquidation=True)
        self.ledger.cover_shortfall(time, f"liquidation {fill.trade_id}")
        return fill

    def _apply(self, fill: Fill, *, liquidation: bool) -> None:
        if self._record:
            self.fills.append(fill)
        before = self.position
        self.position = before.apply_fill(fill)
        realized = self.position.realized_pnl - before.realized_pnl
        self.ledger.book_fill(fill, realized, liquidation=liquidation)
        self._refresh_liquidation()

    def _refresh_liquidation(self) -> None:
        self._line = None  # the wallet or the position changed
        position = self.position
        if position.is_flat:  # nothing to liquidate (what both margin modes below conclude)
            self.liquidation_level = None
            return
        price: Price | None = None
        isolated = self.mode is _ISOLATED
        buffer = self._isolated_margin() if isolated else self.ledger.wallet_balance
        # A long backed by at least its whole cost cannot be liquidated: at any positive price
        # its equity stays above zero, and the requirement vanishes with the price. The margin
        # module would find no positive root either, after trying every tier; this is quicker.
        if position.size > 0 and buffer >= position.cost_basis:
            pass
        elif isolated:
            price = margin.isolated_liquidation_price(self.instrument, position, buffer)
        else:
            price = margin.cross_liquidation_price(self.instrument, position, wallet_balance=buffer)
        if price is None:
            self.liquidation_level = None
            return
        long = position.size > 0
        ticks = price / self.instrument.tick_size
        rounded = ticks.to_integral_value(ROUND_FLOOR if long else ROUND_CEILING)
        self.liquidation_level = float(rounded)
        self.liquidation_rising = not long

    # ---------------------------------------------------------------- margin

    def _isolated_margin(self) -> Money:
        if self.mode is not _ISOLATED or self.position.is_flat:
            return ZERO
        return margin.isolated_position_margin(self.position, self.leverage)

    def opening_qty(self, side: Side, qty: Quantity) -> Quantity:
        """The part of an order of ``qty`` that opens or grows the position (one-way mode)."""
        size = self.position.size
        if size == 0 or (size > 0) == (side is _BUY):
            return qty
        return max(ZERO, qty - abs(size))

    def order_cost(self, side: Side, qty: Quantity, price: Price) -> Money:
        """Bybit's order cost of the opening part of an order (zero when it only reduces)."""
        opening = self.opening_qty(side, qty)
        if opening == 0:
            return ZERO
        return margin.order_cost(self.instrument, side, opening, price, self.leverage).total

    def available(self, mark: Price, orders: Iterable[tuple[Side, Quantity, Price]]) -> Money:
        """What a new order may use: equity (cross) or wallet (isolated) less margins held."""
        position = self.position
        unrealized = held = ZERO
        if not position.is_flat:
            unrealized = position.unrealized_pnl(mark)
            held = margin.position_initial_margin(self.instrument, position, self.leverage)
        reserved = sum((self.order_cost(side, qty, price) for side, qty, price in orders), ZERO)
        return self.ledger.available(unrealized, held, reserved, self.mode)

    def refusal(
        self, side: Side, qty: Quantity, price: Price, mark: Price, holders: Sequence[WorkingOrder]
    ) -> str | None:
        """Why the account cannot afford an order, or ``None`` when it can.

        ``price`` is the order's limit (the last price for a market order), ``holders`` the
        other orders that already hold order margin.
        """
        opening = self.opening_qty(side, qty)
        if opening == 0:
            return None  # it only reduces the position: no margin needed
        value = abs(self.position.size + side.sign * qty) * price
        if not self._leverage_fits(value):
            try:
                margin.check_leverage(self.instrument, self.leverage, value)
            except InstrumentRuleError as refused:
                return str(refused)
        # The common case, decided without the exact cost: flat and no orders, the whole wallet
        # is available, and the cost is at most value × (1/leverage + taker × (2 + 1/leverage)).
        wallet = self.ledger.wallet_balance
        if self.position.is_flat and not holders and opening * price * self._cost_bound <= wallet:
            return None
        cost = self.order_cost(side, qty, price)
        reserved = ((o.side, o.remaining, o.price or mark) for o in holders)
        available = self.available(mark, reserved)
        if cost <= available:
            return None
        coin = self.ledger.coin
        return (
            f"insufficient available balance: needs {_cents(cost)} {coin}, "
            f"has {_cents(available)} {coin}"
        )

    def _leverage_fits(self, value: Money) -> bool:
        """Quick yes for a value inside the first risk-limit tier (the leverage was checked
        against the instrument's maximum when the exchange was set up)."""
        tiers = self.instrument.margin_tiers
        return bool(tiers) and value <= tiers[0].up_to and self.leverage <= tiers[0].max_leverage

    # ---------------------------------------------------------------- views

    def line(self) -> tuple[float, float, float]:
        """``(a, s, basis)``: equity = ``a + s × mark`` with ``a`` = wallet − cost basis, ``s``
        the size and ``basis`` the cost basis, as floats for per-bar curves."""
        if self._line is None:
            position = self.position
            wallet = self.ledger.wallet_balance
            self._line = (
                float(wallet - position.cost_basis),
                float(position.size),
                float(position.cost_basis),
            )
        return self._line
