"""The engine's edges: small protocols that every mode plugs something different into.

=========  ==================  ==========================  ===============================
port       backtest            paper                       demo / testnet / live
=========  ==================  ==========================  ===============================
Clock      bar clock           wall clock                  wall clock
MarketFeed stored bars         venue stream                venue stream
Exchange   SimulatedExchange   SimulatedExchange           venue adapter
StateStore in memory           database                    database
=========  ==================  ==========================  ===============================

The engine sees only these; it never asks which mode it is in. An ``Exchange`` answers every
instruction with events (an order accepted, rejected, filled …) and reports its truth — orders,
positions, balance — for the engine to reconcile against after each instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.account import Account
from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.slots import quick_init
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, Price, Symbol

Progress = Callable[[int, int], None]
"""How long work reports how far it got: ``(done, total)`` in its own units (bars, rows)."""


@runtime_checkable
class Clock(Protocol):
    """The one source of time. Nothing else reads the wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, slots=True)
class ClosedBar:
    """One closed bar of a symbol: the row kernels read (ts, open, high, low, close, volume)."""

    symbol: Symbol
    timeframe: Timeframe
    row: NDArray[np.float64]

    @property
    def open_ms(self) -> int:
        return int(self.row[0])

    @property
    def close_ms(self) -> int:
        return self.open_ms + self.timeframe.ms


@runtime_checkable
class MarketFeed(Protocol):
    """Closed bars, in order, with no bar missed or doubled."""

    def history(self, symbol: Symbol, timeframe: Timeframe, bars: int) -> NDArray[np.float64]:
        """The ``bars`` closed bars before the feed starts (warm-up) as a ``(n, 6)`` matrix."""
        ...

    def bars(self) -> Iterator[ClosedBar]:
        """Closed bars as they close (backtest: as fast as the engine takes them)."""
        ...


@quick_init
@dataclass(frozen=True, slots=True)
class TradingStop:
    """Take-profit / stop-loss / trailing stop attached to a position (Bybit ``trading-stop``)."""

    symbol: Symbol
    take_profit: Price | None = None
    stop_loss: Price | None = None
    trailing_distance: Price | None = None
    trailing_activation: Price | None = None


@runtime_checkable
class Exchange(Protocol):
    """Where orders go. The simulated exchange and every venue adapter implement this."""

    def instrument(self, symbol: Symbol) -> Instrument: ...

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        """Send an order; the events the exchange answered with (accepted or rejected, fills)."""
        ...

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]: ...

    def set_trading_stop(self, stop: TradingStop) -> None:
        """Attach, replace or (with ``None`` prices) remove a position's protection."""
        ...

    def open_orders(self, symbol: Symbol | None = None) -> Sequence[Order]: ...

    def position(self, symbol: Symbol) -> Position: ...

    def account(self) -> Account: ...


@runtime_checkable
class StateStore(Protocol):
    """Where an environment's state survives a restart (memory in a backtest)."""

    def save(self, key: str, state: dict[str, Any]) -> None: ...

    def load(self, key: str) -> dict[str, Any] | None: ...
