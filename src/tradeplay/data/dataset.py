"""Dataset names and descriptions: which dataset (:class:`DatasetKey`) and what it holds.

A key maps one-to-one onto a file of the store (``<exchange>/<SYMBOL>/<timeframe>.parquet``
or ``funding.parquet``), so its names are checked here, before they reach the file system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe

__all__ = ["FUNDING", "DatasetInfo", "DatasetKey", "key_from_path", "sort_rank"]

_EXCHANGE: Final = re.compile(r"[a-z0-9_]+")  # used with fullmatch: no "\n" slips past a "$"
_SYMBOL: Final = re.compile(r"[A-Z0-9]+")
#: File stem and display name of a funding dataset.
FUNDING: Final = "funding"


@dataclass(frozen=True, slots=True)
class DatasetKey:
    """Which dataset: ``exchange`` (``bybit``), ``symbol`` (``BTCUSDT``), ``timeframe``.

    ``timeframe=None`` is the symbol's funding dataset. Names are checked because they become
    folder names: a stray ``/`` or ``..`` must not reach the file system.
    """

    exchange: str
    symbol: str
    timeframe: Timeframe | None

    def __post_init__(self) -> None:
        if not isinstance(self.timeframe, Timeframe | None):
            raise TypeError(
                f"timeframe must be a Timeframe or None, got {self.timeframe!r}; "
                "DatasetKey.candles() accepts text such as '1h'"
            )
        if not _EXCHANGE.fullmatch(self.exchange):
            raise InputError(
                f"exchange {self.exchange!r} is not a valid name: use lowercase letters, "
                "digits and _ (e.g. bybit)"
            )
        if not _SYMBOL.fullmatch(self.symbol):
            raise InputError(
                f"symbol {self.symbol!r} is not a valid name: use uppercase letters and "
                "digits, no separator (e.g. BTCUSDT)"
            )

    @classmethod
    def candles(cls, exchange: str, symbol: str, timeframe: Timeframe | str) -> DatasetKey:
        tf = Timeframe.parse(timeframe) if isinstance(timeframe, str) else timeframe
        return cls(exchange, symbol, tf)

    @classmethod
    def funding(cls, exchange: str, symbol: str) -> DatasetKey:
        return cls(exchange, symbol, None)

    @property
    def is_funding(self) -> bool:
        return self.timeframe is None

    @property
    def file_name(self) -> str:
        return f"{FUNDING if self.timeframe is None else self.timeframe}.parquet"

    def __str__(self) -> str:
        return f"{self.exchange} {self.symbol} {self.timeframe or FUNDING}"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What the store knows about one dataset, read from its file footer."""

    key: DatasetKey
    path: Path
    rows: int
    first_ms: int
    last_ms: int
    size_bytes: int
    generated: bool  #: True for synthetic bars (samples, tests): never trade on these
    source: str  #: where the rows came from, e.g. "download: bybit"; several joined by "; "
    gaps: int  #: number of gaps (runs of missing bars); always 0 for funding


def key_from_path(path: Path) -> DatasetKey | None:
    """The key of ``<exchange>/<SYMBOL>/<name>.parquet``, or ``None`` for a foreign file."""
    try:
        stem = path.stem
        timeframe = None if stem == FUNDING else Timeframe.parse(stem)
        key = DatasetKey(path.parent.parent.name, path.parent.name, timeframe)
    except InputError:
        return None
    return key if key.file_name == path.name else None  # "60m.parquet" is not canonical


def sort_rank(key: DatasetKey) -> tuple[int, int]:
    """Timeframes shortest first, funding last."""
    return (1, 0) if key.timeframe is None else (0, key.timeframe.ms)
