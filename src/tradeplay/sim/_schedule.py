"""The next funding settlement, looked up once per settlement rather than once per bar."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tradeplay.sim.funding import FundingBasis, FundingSource

__all__ = ["NextSettlement"]


class NextSettlement:
    """The first settlement at or after a time, cached while the answer cannot change."""

    __slots__ = ("_at", "_end", "_from", "_horizon_ms", "_rate", "_source")

    def __init__(self, source: FundingSource) -> None:
        self._source = source
        self._horizon_ms = int(source.interval / timedelta(milliseconds=1)) * 4
        self._end: int | None = None  # a constant schedule never ends
        if source.basis is FundingBasis.HISTORY:
            last = source.history.last_ms if source.history is not None else None
            self._end = -1 if last is None else last  # nothing after the stored history
        self._from = 1  # the cache answers for times in [_from, _at]; empty at first
        self._at: int | None = 0
        self._rate = Decimal(0)

    def at_or_after(self, ms: int) -> tuple[int, Decimal] | None:
        """``(time in ms, rate)`` of the first settlement at or after ``ms``; ``None``: none."""
        if not (self._from <= ms and (self._at is None or ms <= self._at)):
            self._lookup(ms)
        return None if self._at is None else (self._at, self._rate)

    def _lookup(self, ms: int) -> None:
        self._from, self._at = ms, None
        start, horizon = ms, self._horizon_ms
        while self._end is None or start <= self._end:
            found = self._source.settlements(start, start + horizon)
            if len(found):
                self._at = int(found.ts[0])
                self._rate = found.rate_at(0)
                return
            start, horizon = start + horizon, horizon * 2
