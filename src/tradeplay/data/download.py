"""Downloading candle and funding history into the store, page by page, resumable.

The exchange sits behind :class:`HistorySource`, a port of two fetch methods; the Bybit one
lives in ``tradeplay.venues`` (the only place that imports ccxt) and tests use fakes.

How a download behaves, and why:

* **Resume, never re-fetch.** What the store already holds is skipped: the download continues
  after the last stored bar, and fetches only the missing part before the first stored bar when
  ``since`` is earlier (back-fill). Gaps *inside* the stored span are left to the gap tools.
* **Every page is stored as it arrives**, so an interrupted download (network gone, Ctrl-C)
  keeps what it got and the next run picks up after it. Each append rewrites the dataset's file
  atomically, so a reader never sees half a page.
* **Only closed bars.** A bar whose close time is after ``now_ms`` is still moving; storing it
  would freeze a wrong close forever (the store never rewrites history). ``now_ms`` is passed in
  by the caller: nothing here reads the wall clock.
* **Paging must advance.** A page that does not move past what was asked for means the source
  ignores ``since``; that raises instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tradeplay.data._utc import iso_utc
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.data.validation import validate_candles, validate_funding
from tradeplay.domain.errors import DataValidationError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.ports import Progress

__all__ = ["DownloadReport", "HistorySource", "download_candles", "download_funding"]

#: ``progress(done, total)``: candles count bars, funding counts hours of history.

_HOUR_MS = 3_600_000
Series = TypeVar("Series", Candles, FundingRates)


class HistorySource(Protocol):
    """Where history comes from: one exchange's public endpoints, one page per call."""

    @property
    def name(self) -> str:
        """Exchange name, used as the store's ``exchange`` (``bybit``)."""

    @property
    def max_candles_per_page(self) -> int: ...

    @property
    def max_funding_per_page(self) -> int: ...

    def fetch_candles(
        self, symbol: str, timeframe: Timeframe, since_ms: int, until_ms: int, limit: int
    ) -> Candles:
        """The first bars (at most ``limit``) opening in ``[since_ms, until_ms)``, oldest first.

        Empty only when no bar opens in the range at all.
        """

    def fetch_funding(self, symbol: str, since_ms: int, until_ms: int, limit: int) -> FundingRates:
        """The first settlements (at most ``limit``) in ``[since_ms, until_ms)``, oldest first."""


@dataclass(frozen=True, slots=True)
class DownloadReport:
    """What one download did. ``first_ms`` / ``last_ms`` span the rows received this run."""

    key: DatasetKey
    added: int
    pages: int
    first_ms: int | None
    last_ms: int | None
    resumed_from_ms: int | None  #: where the download continued after stored data, if it did

    def __str__(self) -> str:
        span = (
            f" ({iso_utc(self.first_ms)} .. {iso_utc(self.last_ms)})"
            if self.first_ms is not None and self.last_ms is not None
            else ""
        )
        resumed = (
            f", resumed from {iso_utc(self.resumed_from_ms)}"
            if self.resumed_from_ms is not None
            else ""
        )
        pages = f"{self.pages} page" + ("" if self.pages == 1 else "s")
        return f"{self.key}: {self.added:,} rows added{span} in {pages}{resumed}"


@dataclass(slots=True)
class _Tally:
    """Running totals of one download (mutable on purpose: updated after every page)."""

    added: int = 0
    pages: int = 0
    first_ms: int | None = None
    last_ms: int | None = None

    def count(self, first_ms: int, last_ms: int, added: int) -> None:
        self.added += added
        self.pages += 1
        self.first_ms = first_ms if self.first_ms is None else min(self.first_ms, first_ms)
        self.last_ms = last_ms if self.last_ms is None else max(self.last_ms, last_ms)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The time ranges still missing from the store, and where the forward part resumes."""

    ranges: list[tuple[int, int]]
    resumed_from_ms: int | None


def _plan(store: CandleStore, key: DatasetKey, start: int, end: int, step: int) -> _Plan:
    """Split ``[start, end)`` into what the stored dataset lacks: before it and after it."""
    if not store.exists(key):
        return _Plan([(start, end)] if start < end else [], None)
    info = store.info(key)
    ranges = []
    if start < info.first_ms:
        ranges.append((start, min(end, info.first_ms)))
    resume = info.last_ms + step
    resumed = start <= info.last_ms
    if max(start, resume) < end:
        ranges.append((max(start, resume), end))
    return _Plan(ranges, resume if resumed else None)


@dataclass(frozen=True, slots=True)
class _Pager(Generic[Series]):
    """How to page one kind of series: fetch a page, store it, step past a row."""

    fetch: Callable[[int, int], Series]  # (cursor, end) -> the next page
    store: Callable[[Series], int]  # validate and append a page; rows added
    step_ms: int  # the smallest advance past a row: one bar, or 1 ms for funding
    unit_ms: int  # progress unit: one bar, or one hour for funding
    label: str  # the source, as errors and the store name it


def _next_page(pager: _Pager[Series], cursor: int, end: int) -> Series:
    """The page at ``cursor`` cut to ``[cursor, end)``; empty when the range holds no more."""
    page = pager.fetch(cursor, end)
    if len(page) and int(page.ts[-1]) < cursor:
        raise DataValidationError(
            pager.label,
            "pages_advance",
            f"asked for rows from {iso_utc(cursor)} and got a page ending at "
            f"{iso_utc(int(page.ts[-1]))}; the source does not move forward",
        )
    return page.between(cursor, end)


def _download(
    key: DatasetKey, pager: _Pager[Series], plan: _Plan, progress: Progress | None
) -> DownloadReport:
    """Page through every missing range, storing each page as it arrives.

    Terminates: the cursor moves strictly forward on every page (``_next_page`` refuses pages
    that do not reach the cursor) and stops at the range end or at the first empty page.
    """
    tally = _Tally()
    total = sum((end - start) // pager.unit_ms for start, end in plan.ranges)
    covered = 0
    for start, end in plan.ranges:
        cursor = start
        while cursor < end:
            page = _next_page(pager, cursor, end)
            if len(page) == 0:
                break  # nothing more in this range (e.g. up to now, or a delisted symbol)
            tally.count(int(page.ts[0]), int(page.ts[-1]), pager.store(page))
            cursor = int(page.ts[-1]) + pager.step_ms
            if progress is not None:
                progress(covered + (min(cursor, end) - start) // pager.unit_ms, total)
        covered += (end - start) // pager.unit_ms  # an early stop still covers the range
        if progress is not None:
            progress(covered, total)
    return DownloadReport(
        key=key,
        added=tally.added,
        pages=tally.pages,
        first_ms=tally.first_ms,
        last_ms=tally.last_ms,
        resumed_from_ms=plan.resumed_from_ms,
    )


def download_candles(  # noqa: PLR0917 - public signature; services.download passes these positionally
    source: HistorySource,
    store: CandleStore,
    symbol: str,
    timeframe: Timeframe,
    since_ms: int,
    until_ms: int,
    *,
    now_ms: int,
    progress: Progress | None = None,
) -> DownloadReport:
    """Fetch the closed ``timeframe`` bars of ``symbol`` opening in ``[since_ms, until_ms)``.

    Stored as exchange ``source.name``; resumes after what is stored; ``now_ms`` is the time
    that decides which bar is still open. ``progress(done, total)`` counts bars.
    """
    key = DatasetKey(source.name, symbol, timeframe)
    label = f"download: {source.name}"
    start = -(-since_ms // timeframe.ms) * timeframe.ms  # first bar opening at or after since
    # The bar containing now closes after now: stop before it (and so before any later bar).
    end = min(until_ms, timeframe.floor(now_ms))
    plan = _plan(store, key, start, end, timeframe.ms)

    def store_page(page: Candles) -> int:
        validate_candles(page, timeframe, label)
        return store.append_candles(key, page, source=label)

    def fetch(cursor: int, stop: int) -> Candles:
        limit = source.max_candles_per_page
        return source.fetch_candles(symbol, timeframe, cursor, stop, limit)

    pager = _Pager(fetch, store_page, timeframe.ms, timeframe.ms, label)
    return _download(key, pager, plan, progress)


def download_funding(
    source: HistorySource,
    store: CandleStore,
    symbol: str,
    since_ms: int,
    until_ms: int,
    *,
    now_ms: int,
    progress: Progress | None = None,
) -> DownloadReport:
    """Fetch the funding settlements of ``symbol`` in ``[since_ms, until_ms)`` up to ``now_ms``.

    Settlements are not on a fixed grid (intervals differ by symbol and venues stamp a few ms
    late), so paging steps 1 ms past the last one. ``progress(done, total)`` counts hours.
    """
    key = DatasetKey.funding(source.name, symbol)
    label = f"download: {source.name}"
    plan = _plan(store, key, since_ms, min(until_ms, now_ms), 1)

    def store_page(page: FundingRates) -> int:
        validate_funding(page, label)
        return store.append_funding(source.name, symbol, page, source=label)

    def fetch(cursor: int, stop: int) -> FundingRates:
        return source.fetch_funding(symbol, cursor, stop, source.max_funding_per_page)

    pager = _Pager(fetch, store_page, 1, _HOUR_MS, label)
    return _download(key, pager, plan, progress)
