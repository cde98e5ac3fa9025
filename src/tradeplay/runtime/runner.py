"""One play on one symbol, stepped by closed bars: the same engine the backtest wires.

A runner is the live counterpart of :func:`tradeplay.engine.backtest.run_backtest`. Per closed
bar it does what the backtest does at that bar, in the same order:

1. the **market** takes the bar first (:class:`Market`): a paper account's simulated exchange
   fills the orders waiting for this bar's open and walks its path; a venue account collects
   the fills its private streams reported (its orders, positions and balance are read from
   the streamed account view, or REST when the view cannot vouch for itself);
2. the play's features and rules **stream** one step (:class:`~tradeplay.play.runner.PlayStream`,
   the same kernels and rules as the batch path);
3. the **engine** runs its loop at the bar's close, unless the bar is still warming up.

The backtest calls the engine only on bars where it could act; here it is called on every bar,
and on the other bars it does nothing — which is what the parity tests prove. Bars are numbered
from the first bar the runner saw, warm-up included, exactly as the backtest numbers them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.errors import InputError
from tradeplay.domain.events import OrderEvent
from tradeplay.domain.values import utc_from_ms
from tradeplay.engine.clock import BarClock
from tradeplay.engine.engine import Engine, EngineConfig
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.runner import PlaySignals, PlayStream
from tradeplay.ports import Exchange
from tradeplay.runtime.actions import TimedExchange

__all__ = ["DECISIONS_KEPT", "BarStep", "Market", "PlayRunner"]


DECISIONS_KEPT: Final = 1_000
"""How many of its latest decisions a runner's engine keeps in memory (see
:attr:`EngineConfig.keep_decisions`): enough to read back what it did lately, bounded over a
run of months."""


class Market(Protocol):
    """Where the account's orders meet the market, told about each closed bar first."""

    @property
    def exchange(self) -> Exchange:
        """The exchange the engine trades on."""
        ...

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        """The bar ``row`` (ts, open, high, low, close, volume) closed: bring the account up to
        its close before the engine looks at it; the order events that brought (fills …)."""
        ...


@dataclass(frozen=True, slots=True)
class BarStep:
    """What one closed bar did: its signals and how long each stage took (nanoseconds)."""

    index: int
    open_ms: int
    row: NDArray[np.float64]
    """The bar itself: open time (ms), open, high, low, close, volume."""
    signals: Mapping[str, bool]
    traded: bool
    """Whether the engine ran (``False`` while warming up)."""
    market_ns: int
    features_ns: int
    engine_ns: int


class PlayRunner:
    """Closed bars in, one engine step per bar out."""

    def __init__(
        self,
        play: CompiledPlay,
        market: Market,
        config: EngineConfig,
        *,
        start_ms: int,
    ) -> None:
        """``start_ms``: the open time of the first bar the runner will see."""
        self.play = play
        self.market = market
        self.clock = BarClock(start_ms)
        self.actions = TimedExchange(market.exchange)
        """The engine's exchange, timing and logging every instruction."""
        self.engine = Engine(play, self.actions, self.clock, config)
        self._stream: PlayStream = PlaySignals(play).stream()
        self._bar_ms = play.play.timeframe.ms
        sizing = play.play.sizing
        self._closes: deque[float] = deque(maxlen=int(getattr(sizing, "lookback", 0) or 0) + 1)
        self._index = 0
        self._last_open: int | None = None

    @property
    def bars_seen(self) -> int:
        return self._index

    def warm(self, history: NDArray[np.float64]) -> None:
        """Warm-up bars (``(n, 6)`` rows, oldest first): the market and the features see them,
        the engine does not (a backtest's ``warm_up`` bars)."""
        for row in history:
            self.step(row, trade=False)

    def run(self, rows: Sequence[NDArray[np.float64]] | NDArray[np.float64]) -> list[BarStep]:
        """Step every row in turn (a test or a replay); the live loop calls :meth:`step`."""
        return [self.step(row) for row in rows]

    def step(self, row: NDArray[np.float64], *, trade: bool = True) -> BarStep:
        """One closed bar: market, features and rules, then the engine."""
        open_ms = int(row[0])
        if self._last_open is not None and open_ms != self._last_open + self._bar_ms:
            raise InputError(
                f"bar at {utc_from_ms(open_ms):%Y-%m-%d %H:%M} UTC does not follow the bar at "
                f"{utc_from_ms(self._last_open):%Y-%m-%d %H:%M} UTC: a bar was missed, doubled "
                "or is out of order"
            )
        index = self._index
        began = time.perf_counter_ns()
        self.actions.bar_received()
        self.actions.fills_seen(self.market.on_bar(row))
        marked = time.perf_counter_ns()
        signals = self._stream.step(row)
        columns = self._stream.columns
        self._closes.append(float(row[4]))
        featured = time.perf_counter_ns()
        if trade:
            self.clock.set_ms(open_ms + self._bar_ms)
            closes = np.fromiter(self._closes, np.float64, len(self._closes))
            self.engine.on_bar_close(index, signals, columns, closes)
        done = time.perf_counter_ns()
        self._index += 1
        self._last_open = open_ms
        return BarStep(
            index, open_ms, row, signals, trade, marked - began, featured - marked, done - featured
        )
