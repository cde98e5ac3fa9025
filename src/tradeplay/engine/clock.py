"""Clocks: the one place time comes from. The backtest's moves with the bars it replays."""

from __future__ import annotations

from datetime import datetime

from tradeplay.domain.values import utc_from_ms


class BarClock:
    """Simulated time: the close of the bar being processed, set by the backtest wiring."""

    def __init__(self, start_ms: int) -> None:
        self._ms = start_ms

    def set_ms(self, ms: int) -> None:
        if ms < self._ms:
            raise ValueError(f"a bar clock never goes back: {ms} < {self._ms}")
        self._ms = ms

    def now(self) -> datetime:
        return utc_from_ms(self._ms)
