"""The synchronous ``MarketFeed`` port over Bybit klines: REST warm-up, then closed bars.

The kline stream runs on the runtime's event loop (:class:`~tradeplay.venues.bybit.streams.
ClosedBars` under :func:`~tradeplay.venues.bybit.streams.supervise`); each closed bar is put on
a thread-safe queue that :meth:`BybitFeed.bars` reads in the engine's thread. The warm-up's last
bar seeds the stream's position, so the first live bar continues the history without a gap or
a repeat (a gap is filled from REST klines).
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol
from tradeplay.ports import ClosedBar
from tradeplay.venues.bybit.exchange import DEFAULT_TIMEOUT_S, run_on_loop
from tradeplay.venues.bybit.market import Kline
from tradeplay.venues.bybit.streams import ClosedBars
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["BybitFeed"]

_COLUMNS = 6


class BybitFeed:
    """:class:`~tradeplay.ports.MarketFeed` of one symbol and timeframe.

    :attr:`stream` is the :class:`ClosedBars` to supervise on the loop (the runtime starts it
    with ``supervise(venue, feed.stream.spec())``); :meth:`bars` blocks until a bar closes.
    """

    def __init__(
        self,
        venue: BybitVenue,
        loop: asyncio.AbstractEventLoop,
        symbol: Symbol,
        timeframe: Timeframe,
    ) -> None:
        self._venue = venue
        self._loop = loop
        self.symbol = symbol
        self.timeframe = timeframe
        self._queue: queue.Queue[Kline | None] = queue.Queue()
        self.stream = ClosedBars(venue, symbol, timeframe, self._queue.put_nowait)

    def history(self, symbol: Symbol, timeframe: Timeframe, bars: int) -> NDArray[np.float64]:
        """The last ``bars`` closed bars as a ``(n, 6)`` matrix; seeds the live stream."""
        closed = run_on_loop(
            self._loop, self._venue.recent_klines(symbol, timeframe, bars), DEFAULT_TIMEOUT_S
        )
        if symbol == self.symbol and timeframe == self.timeframe and closed:
            self.stream.last_start_ms = closed[-1].start_ms
        if not closed:
            return np.empty((0, _COLUMNS), dtype=np.float64)
        return np.vstack([bar.row() for bar in closed])

    def bars(self) -> Iterator[ClosedBar]:
        """Closed bars as they close; ends after :meth:`close`."""
        while (bar := self._queue.get()) is not None:
            yield ClosedBar(self.symbol, self.timeframe, bar.row())

    def close(self) -> None:
        """End :meth:`bars` (thread-safe)."""
        self._queue.put_nowait(None)
