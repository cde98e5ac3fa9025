"""Take-profit, stop-loss and trailing stop attached to the position (Bybit ``trading-stop``).

Bybit's "Full" mode: each leg closes the **whole** position, as a market order once the last
price reaches it (``tpOrderType`` / ``slOrderType`` = ``Market``, the default). The legs live
with the position and are all cleared when the position closes or flips. Partial protection
(``tpSize`` / ``slSize``) is the same thing as a reduce-only stop order of that size, which the
simulated exchange already takes: send one (``OrderType.STOP_MARKET``, ``reduce_only=True``).

Trailing stop (Bybit ``trailingStop`` + ``activePrice``)
    The stop follows the best price since activation at ``distance`` behind it and never moves
    back: a long's stop is ``highest price − distance``, a short's ``lowest price + distance``.
    Without an activation price it is active at once, starting from the last price; with one it
    waits until the last price reaches it. The extreme is tracked in ticks, in a small array the
    quiet-span scan updates in place (layout in :mod:`tradeplay.sim._scan`).

A leg that would fire at once is refused, as Bybit does ("TakeProfit:… set for Buy position
should be higher than base_price:…"): a long's take-profit must be above the last price and its
stop-loss below it; the other way round for a short.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.errors import OrderRejectedError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.values import Price, Quantity, format_decimal
from tradeplay.ports import TradingStop
from tradeplay.sim._scan import (
    TRAIL_ACTIVATION,
    TRAIL_ACTIVE,
    TRAIL_DISTANCE,
    TRAIL_EXTREME,
    TRAIL_SIDE,
)
from tradeplay.sim.book import Origin

__all__ = ["Leg", "PositionGuard"]

_INF: Final = float("inf")
# Members read per bar walked, bound once: on Python 3.11 every ``Enum.MEMBER`` read goes
# through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_TAKE_PROFIT, _STOP_LOSS = Origin.TAKE_PROFIT, Origin.STOP_LOSS
_TRAILING_STOP = Origin.TRAILING_STOP
Leg = tuple[Origin, float, bool]
"""``(origin, level in ticks, rising)``: one armed leg and the move that fires it."""


class PositionGuard:
    """The protective legs of one position: its take-profit, stop-loss and trailing stop.

    (Not :class:`tradeplay.domain.protection.Protection`, which is what an *entry* asks for;
    this is what the exchange holds on the position once it exists.)
    """

    __slots__ = (
        "_stop_loss",
        "_stop_loss_ticks",
        "_take_profit",
        "_take_profit_ticks",
        "_tick",
        "_trailing",
        "trail",
        "trailing_activation",
    )

    def __init__(self, instrument: Instrument) -> None:
        self._tick = instrument.tick_size
        self._take_profit: Price | None = None
        self._stop_loss: Price | None = None
        self._take_profit_ticks = self._stop_loss_ticks = 0.0
        """The legs' prices in ticks, computed once when set: the scan and the walk read them
        several times per bar walked, and a ``Decimal`` division each time cost more."""
        self.trailing_activation: Price | None = None
        self.trail: NDArray[np.float64] = np.zeros(5, dtype=np.float64)
        self._trailing = False
        """``trail[TRAIL_SIDE] != 0``, kept as a Python bool: asked several times per bar walked,
        and reading a numpy element costs more. Only this class sets the side (the scan moves
        the extreme and the activation flag), and ``trail`` is all zeros while it is 0."""

    # ---------------------------------------------------------------- views

    @property
    def take_profit(self) -> Price | None:
        return self._take_profit

    @property
    def stop_loss(self) -> Price | None:
        return self._stop_loss

    @property
    def trailing_distance(self) -> Price | None:
        if not self._trailing:
            return None
        return Decimal(int(self.trail[TRAIL_DISTANCE])) * self._tick

    @property
    def trailing(self) -> bool:
        """Whether a trailing stop is set (active or waiting for its activation price)."""
        return self._trailing

    @property
    def is_empty(self) -> bool:
        return self._take_profit is None and self._stop_loss is None and not self._trailing

    def as_trading_stop(self, symbol: str) -> TradingStop:
        return TradingStop(
            symbol=symbol,
            take_profit=self.take_profit,
            stop_loss=self.stop_loss,
            trailing_distance=self.trailing_distance,
            trailing_activation=self.trailing_activation,
        )

    def legs(self, size: Quantity) -> list[Leg]:
        """The armed legs of a position of signed ``size``."""
        long = size > 0
        legs: list[Leg] = []
        if self._take_profit is not None:
            legs.append((_TAKE_PROFIT, self._take_profit_ticks, long))
        if self._stop_loss is not None:
            legs.append((_STOP_LOSS, self._stop_loss_ticks, not long))
        trail = self.trail
        if self._trailing and trail[TRAIL_ACTIVE] > 0:
            offset = trail[TRAIL_DISTANCE] * trail[TRAIL_SIDE]
            legs.append((_TRAILING_STOP, trail[TRAIL_EXTREME] - offset, not long))
        return legs

    def levels(self, size: Quantity) -> tuple[float, float]:
        """``(up, down)`` of the take-profit and stop-loss (the scan handles the trailing):
        the nearest level each leg of :meth:`legs` fires at on a rise, and on a fall."""
        up, down = _INF, -_INF
        for origin, ticks, rises in self.legs(size):
            if origin is _TRAILING_STOP:
                continue
            if rises:
                up = min(up, ticks)
            else:
                down = max(down, ticks)
        return up, down

    def stop_price(self, leg: Leg) -> Price:
        """The trigger price of a leg (the trailing stop's as it stands now)."""
        return Decimal(int(leg[1])) * self._tick

    # ---------------------------------------------------------------- changes

    def reach(self, price: float) -> bool:
        """The last price reached ``price`` ticks: activate and ratchet the trailing stop.

        Returns whether the trailing stop moved.
        """
        if not self._trailing:
            return False
        trail = self.trail
        side = trail[TRAIL_SIDE]
        if trail[TRAIL_ACTIVE] == 0:
            if (price - trail[TRAIL_ACTIVATION]) * side < 0:
                return False
            trail[TRAIL_ACTIVE] = 1.0
            trail[TRAIL_EXTREME] = price
            return True
        if (price - trail[TRAIL_EXTREME]) * side > 0:
            trail[TRAIL_EXTREME] = price
            return True
        return False

    def remove(self, origin: Origin) -> None:
        """A leg fired: it is gone (Bybit's TP/SL order was triggered)."""
        if origin is Origin.TAKE_PROFIT:
            self._take_profit = None
        elif origin is Origin.STOP_LOSS:
            self._stop_loss = None
        else:
            self.trail[:] = 0.0
            self.trailing_activation = None
            self._trailing = False

    def clear(self) -> None:
        """The position closed: every leg goes."""
        self._take_profit = self._stop_loss = self.trailing_activation = None
        if self._trailing:  # otherwise the array is all zeros already
            self.trail[:] = 0.0
            self._trailing = False

    def replace(
        self, stop: TradingStop, instrument: Instrument, size: Quantity, last: Price
    ) -> None:
        """Set all legs from ``stop`` (``None`` removes a leg); refuse what Bybit refuses."""
        if size == 0:
            if stop.take_profit or stop.stop_loss or stop.trailing_distance:
                raise OrderRejectedError(
                    f"{instrument.symbol}: can not set tp/sl/ts for zero position"
                )
            self.clear()
            return
        long = size > 0
        _check_leg(instrument, "TakeProfit", stop.take_profit, last, above=long, long=long)
        _check_leg(instrument, "StopLoss", stop.stop_loss, last, above=not long, long=long)
        trail = _trail_state(instrument, stop, long, last)
        self._set_legs(stop.take_profit, stop.stop_loss)
        self.trailing_activation = stop.trailing_activation if stop.trailing_distance else None
        if trail is not None:
            self.trail[:] = trail
            self._trailing = True
        elif self._trailing:  # the trailing stop is removed
            self.trail[:] = 0.0
            self._trailing = False

    def _set_legs(self, take_profit: Price | None, stop_loss: Price | None) -> None:
        self._take_profit, self._stop_loss = take_profit, stop_loss
        if take_profit is not None:
            self._take_profit_ticks = self._ticks(take_profit)
        if stop_loss is not None:
            self._stop_loss_ticks = self._ticks(stop_loss)

    def _ticks(self, price: Price) -> float:
        return float(price / self._tick)


def _check_leg(
    instrument: Instrument, name: str, price: Price | None, last: Price, *, above: bool, long: bool
) -> None:
    if price is None:
        return
    instrument.validate_price(price)
    if (price > last) if above else (price < last):
        return
    where = "higher" if above else "lower"
    side = "Buy" if long else "Sell"
    raise OrderRejectedError(
        f"{instrument.symbol}: {name}:{format_decimal(price)} set for {side} position should be "
        f"{where} than base_price:{format_decimal(last)}"
    )


def _trail_state(
    instrument: Instrument, stop: TradingStop, long: bool, last: Price
) -> NDArray[np.float64] | None:
    """The scan's trailing array for ``stop``; ``None`` when it sets no trailing stop."""
    distance, activation = stop.trailing_distance, stop.trailing_activation
    if not distance:
        if activation is not None:
            raise OrderRejectedError(
                f"{instrument.symbol}: a trailing activation price needs a trailing distance"
            )
        return None
    trail = np.zeros(5, dtype=np.float64)
    tick = instrument.tick_size
    instrument.round_price(distance, Rounding.REFUSE)  # positive and a whole number of ticks
    side = 1.0 if long else -1.0
    last_ticks = float(last / tick)
    trail[TRAIL_SIDE] = side
    trail[TRAIL_DISTANCE] = float(distance / tick)
    trail[TRAIL_ACTIVATION] = last_ticks
    if activation is not None:
        instrument.validate_price(activation)
        trail[TRAIL_ACTIVATION] = float(activation / tick)
    # Active at once when the activation price is already reached (or not given).
    if (last_ticks - trail[TRAIL_ACTIVATION]) * side >= 0:
        trail[TRAIL_ACTIVE] = 1.0
        trail[TRAIL_EXTREME] = last_ticks
    return trail
