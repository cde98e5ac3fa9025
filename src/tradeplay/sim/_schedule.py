"""The next funding settlement, looked up once per stretch of settlements rather than per bar.

The exchange asks for the first settlement at or after its clock a few times per bar it walks.
Each look-up into the :class:`FundingSource` builds arrays, so this keeps a window of the
schedule — every settlement in ``[from, to)``, about a month of them — and answers from it by
binary search until the clock leaves it.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import timedelta
from decimal import Decimal

from tradeplay.sim.funding import FundingBasis, FundingSchedule, FundingSource

__all__ = ["NextSettlement"]

_WINDOW_INTERVALS = 96
"""Settlements fetched per look-up at first: a month at 8 h (the window doubles while empty)."""


class NextSettlement:
    """The first settlement at or after a time, from a cached window of the schedule."""

    __slots__ = (
        "_answer",
        "_asked",
        "_end",
        "_from",
        "_horizon_ms",
        "_index",
        "_rate",
        "_schedule",
        "_source",
        "_times",
        "_to",
    )

    def __init__(self, source: FundingSource) -> None:
        self._source = source
        interval_ms = int(source.interval / timedelta(milliseconds=1))
        self._horizon_ms = interval_ms * _WINDOW_INTERVALS
        self._end: int | None = None  # a constant schedule never ends
        if source.basis is FundingBasis.HISTORY:
            last = source.history.last_ms if source.history is not None else None
            self._end = -1 if last is None else last  # nothing after the stored history
        # The window: every settlement in [_from, _to) is in _times (ascending). Empty at first.
        self._from, self._to = 1, 0
        self._times: list[int] = []
        self._schedule: FundingSchedule | None = None
        self._index = -1  # the settlement whose rate is in _rate
        self._rate = Decimal(0)
        self._asked = 2**63
        self._answer: tuple[int, Decimal] | None = None
        """The answer for ``_asked``: also for every later time up to the settlement itself
        (for every later time when ``None``). The exchange asks before every stretch."""

    def at_or_after(self, ms: int) -> tuple[int, Decimal] | None:
        """``(time in ms, rate)`` of the first settlement at or after ``ms``; ``None``: none."""
        answer = self._answer
        if self._asked <= ms and (answer is None or ms <= answer[0]):
            return answer
        self._asked, self._answer = ms, self._look_up(ms)
        return self._answer

    def _look_up(self, ms: int) -> tuple[int, Decimal] | None:
        times = self._times
        index = bisect_left(times, ms) if self._from <= ms < self._to else len(times)
        if index == len(times):  # outside the window, or none left in it: look further
            self._load(ms)
            times, index = self._times, 0
            if not times:
                return None
        if index != self._index:
            assert self._schedule is not None  # loaded with the times
            self._index, self._rate = index, self._schedule.rate_at(index)
        return times[index], self._rate

    def _load(self, ms: int) -> None:
        """The window from ``ms`` to the end of the first stretch holding a settlement (or to
        the end of the schedule: an empty window that answers ``None`` from ``ms`` on)."""
        self._index = -1
        start, horizon = ms, self._horizon_ms
        while self._end is None or start <= self._end:
            found = self._source.settlements(start, start + horizon)
            if len(found):
                self._from, self._to = ms, start + horizon
                self._times, self._schedule = found.ts.tolist(), found
                return
            start, horizon = start + horizon, horizon * 2
        self._from, self._to = ms, 2**63  # nothing after ms: every later time answers None
        self._times, self._schedule = [], None
