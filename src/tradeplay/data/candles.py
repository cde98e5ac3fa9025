"""Column-oriented candle and funding series: the values the store loads and the engine consumes.

A series is a handful of equally long, C-contiguous, **read-only** numpy arrays. Read-only because
the same arrays may be shared by several environments in one process (market data is the one
thing environments share, see ARCHITECTURE.md) and a feature that scribbled on them would corrupt
every other reader; code that needs scratch space copies. Construction never validates market
rules (that is :mod:`tradeplay.data.validation`, which can name the offending row); it only
insists on the shape and dtypes every consumer relies on. It copies only when it must (another
dtype, a strided array), so a caller that keeps writing into the arrays it passed in changes
the series: hand over arrays you are done with.

Timestamps are ``int64`` milliseconds since the Unix epoch, UTC; for candles they are the bar's
**open** time, for funding the settlement time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["CANDLE_COLUMNS", "FUNDING_COLUMNS", "Candles", "FundingRates", "frozen_column"]

#: Column order of a candle series, in files and in :meth:`Candles.columns`.
CANDLE_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume")
#: Positions or a boolean mask, as numpy fancy indexing takes them.
Indices = NDArray[np.integer[Any]] | NDArray[np.bool_]
#: Column order of a funding series.
FUNDING_COLUMNS: tuple[str, ...] = ("ts", "rate")


def frozen_column(values: ArrayLike, dtype: type[np.generic], name: str) -> NDArray[Any]:
    """``values`` as a 1-D, C-contiguous, read-only array of ``dtype`` (no copy if it is one).

    Timestamps must already be integers: casting float times would silently truncate them.
    The result is a *view*, so freezing it never changes the caller's array.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"column {name} must be one-dimensional, got shape {array.shape}")
    if dtype is np.int64 and array.size and array.dtype.kind not in "iu":
        raise ValueError(f"column {name} must hold integer milliseconds, got dtype {array.dtype}")
    view = np.ascontiguousarray(array, dtype=dtype).view()
    view.flags.writeable = False
    return view


def _check_lengths(series: object, names: Sequence[str]) -> int:
    lengths = {name: len(getattr(series, name)) for name in names}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    return lengths[names[0]]


def _columns_equal(left: object, right: object, names: Sequence[str]) -> bool:
    # Exact comparison, NaN equal to NaN: a round trip through a file must reproduce every bit
    # that matters, and an unvalidated series may legitimately carry NaN.
    return all(
        np.array_equal(getattr(left, name), getattr(right, name), equal_nan=name != "ts")
        for name in names
    )


def _concatenated(parts: Sequence[object], names: Sequence[str]) -> dict[str, NDArray[Any]]:
    if not parts:
        return {name: np.empty(0) for name in names}
    return {name: np.concatenate([getattr(p, name) for p in parts]) for name in names}


def _window(ts: NDArray[np.int64], start_ms: int | None, end_ms: int | None) -> slice:
    """Index range of ``start_ms <= ts < end_ms`` in a sorted ``ts`` (binary search, no scan)."""
    lo = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
    hi = len(ts) if end_ms is None else int(np.searchsorted(ts, end_ms, side="left"))
    return slice(lo, max(lo, hi))


@dataclass(frozen=True, slots=True)
class Candles:
    """OHLCV bars of one symbol and timeframe, oldest first, ``ts`` = bar open time (ms, UTC)."""

    ts: NDArray[np.int64]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]

    def __post_init__(self) -> None:
        for field in fields(self):
            dtype = np.int64 if field.name == "ts" else np.float64
            frozen = frozen_column(getattr(self, field.name), dtype, field.name)
            object.__setattr__(self, field.name, frozen)
        _check_lengths(self, CANDLE_COLUMNS)

    @classmethod
    def from_columns(
        cls,
        *,
        ts: ArrayLike,
        open: ArrayLike,  # shadows the builtin on purpose: it is the market's word
        high: ArrayLike,
        low: ArrayLike,
        close: ArrayLike,
        volume: ArrayLike,
    ) -> Self:
        """Build from anything array-like (lists, other numeric dtypes, Arrow-backed arrays).

        Keyword-only: six same-typed columns are too easy to pass in the wrong order.
        """
        return cls(ts, open, high, low, close, volume)  # type: ignore[arg-type]

    @classmethod
    def empty(cls) -> Self:
        return cls.from_columns(**{name: [] for name in CANDLE_COLUMNS})

    @classmethod
    def concat(cls, parts: Sequence[Candles]) -> Self:
        """Join series end to end, in the order given (no sorting, no de-duplication)."""
        return cls.from_columns(**_concatenated(parts, CANDLE_COLUMNS))

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Candles):
            return NotImplemented
        return _columns_equal(self, other, CANDLE_COLUMNS)

    def __hash__(self) -> int:
        raise TypeError("Candles are compared by value and are not hashable")

    def columns(self) -> dict[str, NDArray[Any]]:
        """The arrays by column name, in :data:`CANDLE_COLUMNS` order."""
        return {name: getattr(self, name) for name in CANDLE_COLUMNS}

    def __getitem__(self, index: slice) -> Candles:
        """Positional slice (``candles[-100:]``); shares memory with this series (no copy)."""
        return Candles(*(getattr(self, name)[index] for name in CANDLE_COLUMNS))

    def take(self, indices: Indices) -> Candles:
        """Rows at ``indices`` (fancy indexing, copies)."""
        return Candles(*(getattr(self, name)[indices] for name in CANDLE_COLUMNS))

    def between(self, start_ms: int | None, end_ms: int | None) -> Candles:
        """Bars opening in ``[start_ms, end_ms)``; ``None`` leaves that side open.

        Assumes ``ts`` is sorted (every stored or validated series is); a view, no copy.
        """
        return self[_window(self.ts, start_ms, end_ms)]

    @property
    def first_ms(self) -> int | None:
        return int(self.ts[0]) if len(self.ts) else None

    @property
    def last_ms(self) -> int | None:
        return int(self.ts[-1]) if len(self.ts) else None


@dataclass(frozen=True, slots=True)
class FundingRates:
    """Funding settlements of one perpetual: ``ts`` (ms, UTC), ``rate`` (fraction per settlement).

    A positive rate means longs pay shorts, as on Bybit and Binance.
    """

    ts: NDArray[np.int64]
    rate: NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", frozen_column(self.ts, np.int64, "ts"))
        object.__setattr__(self, "rate", frozen_column(self.rate, np.float64, "rate"))
        _check_lengths(self, FUNDING_COLUMNS)

    @classmethod
    def from_columns(cls, *, ts: ArrayLike, rate: ArrayLike) -> Self:
        return cls(ts, rate)  # type: ignore[arg-type]

    @classmethod
    def empty(cls) -> Self:
        return cls.from_columns(ts=[], rate=[])

    @classmethod
    def concat(cls, parts: Sequence[FundingRates]) -> Self:
        """Join series end to end, in the order given (no sorting, no de-duplication)."""
        return cls.from_columns(**_concatenated(parts, FUNDING_COLUMNS))

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FundingRates):
            return NotImplemented
        return _columns_equal(self, other, FUNDING_COLUMNS)

    def __hash__(self) -> int:
        raise TypeError("FundingRates are compared by value and are not hashable")

    def columns(self) -> dict[str, NDArray[Any]]:
        return {"ts": self.ts, "rate": self.rate}

    def __getitem__(self, index: slice) -> FundingRates:
        """Positional slice; shares memory with this series (no copy)."""
        return FundingRates(self.ts[index], self.rate[index])

    def take(self, indices: Indices) -> FundingRates:
        return FundingRates(self.ts[indices], self.rate[indices])

    def between(self, start_ms: int | None, end_ms: int | None) -> FundingRates:
        """Settlements in ``[start_ms, end_ms)``; ``None`` leaves that side open."""
        return self[_window(self.ts, start_ms, end_ms)]

    @property
    def first_ms(self) -> int | None:
        return int(self.ts[0]) if len(self.ts) else None

    @property
    def last_ms(self) -> int | None:
        return int(self.ts[-1]) if len(self.ts) else None
