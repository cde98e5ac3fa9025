"""The candle and funding store: one Parquet file per dataset under one root folder.

Layout::

    <root>/<exchange>/<SYMBOL>/<timeframe>.parquet    candles, e.g. bybit/BTCUSDT/1h.parquet
    <root>/<exchange>/<SYMBOL>/funding.parquet        funding settlements
    <root>/<exchange>/<SYMBOL>/<file>.parquet.lock    writers' lock (empty; left in place)

Every file describes itself in its Parquet schema metadata (key ``tradeplay``, JSON): schema
version, kind, exchange, symbol, timeframe, sources, whether the bars were generated, first and
last timestamp, gap count. So a generated sample is recognisable forever, even copied
elsewhere, and listing the store reads only file footers.

Concurrency contract:

* **Readers take no lock and never wait.** Writers replace files atomically (see
  :mod:`tradeplay.data._parquet`), so a reader sees a complete old or new version. Readers
  memory-map the files, so nothing may ever rewrite a dataset file in place (a truncated
  mapping kills the reading process with SIGBUS): put files in with ``os.replace`` only.
* **Writers serialise per dataset** on a ``filelock`` sidecar; an append is lock, read,
  merge, write, replace, unlock, so two processes appending never lose each other's bars.
  Waiting longer than ``lock_timeout_s`` raises :class:`StoreBusyError` (retry later).

Nothing is written that fails validation, and a dataset always holds at least one row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from filelock import FileLock, Timeout

from tradeplay.data._parquet import (
    read_columns,
    read_footer,
    remove_stale_temporaries,
    write_atomically,
)
from tradeplay.data.candles import CANDLE_COLUMNS, FUNDING_COLUMNS, Candles, FundingRates
from tradeplay.data.dataset import FUNDING, DatasetInfo, DatasetKey, key_from_path, sort_rank
from tradeplay.data.gaps import count_gaps
from tradeplay.data.merge import merge_series
from tradeplay.data.validation import validate_candles, validate_funding
from tradeplay.domain.errors import (
    DataNotFoundError,
    InputError,
    StateCorruptionError,
    StoreBusyError,
)
from tradeplay.domain.timeframe import Timeframe

__all__ = ["SCHEMA_VERSION", "CandleStore", "DatasetInfo", "DatasetKey"]

#: Version of the file layout and metadata; files from a newer tradeplay are refused.
SCHEMA_VERSION: Final = 1


class CandleStore:
    """Candle and funding datasets under ``root`` (see the module docstring for the contract)."""

    def __init__(self, root: Path, *, lock_timeout_s: float = 30.0) -> None:
        self.root = Path(root)
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"CandleStore({str(self.root)!r})"

    # -- paths and locks ---------------------------------------------------------------------

    def path(self, key: DatasetKey) -> Path:
        return self.root / key.exchange / key.symbol / key.file_name

    @contextmanager
    def _locked(self, key: DatasetKey) -> Iterator[Path]:
        """Hold the dataset's writer lock; yields the dataset path."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(f"{path}.lock", timeout=self.lock_timeout_s)
        try:
            lock.acquire()
        except Timeout:
            raise StoreBusyError(
                f"{key} is being written by another process: gave up after "
                f"{self.lock_timeout_s:g} s waiting for {path}.lock; try again later"
            ) from None
        try:
            remove_stale_temporaries(path)
            yield path
        finally:
            lock.release()

    # -- candles -----------------------------------------------------------------------------

    def write_candles(
        self, key: DatasetKey, candles: Candles, *, source: str, generated: bool = False
    ) -> DatasetInfo:
        """Replace the dataset with ``candles`` (validated first; gaps allowed and counted)."""
        timeframe = _candle_timeframe(key)
        validate_candles(candles, timeframe, source)
        _require_rows(key, len(candles), source)
        with self._locked(key) as path:
            self._write(path, key, candles, [source], generated=generated)
            return self.info(key)  # under the lock: describes exactly what was written

    def append_candles(
        self, key: DatasetKey, candles: Candles, *, source: str, generated: bool = False
    ) -> int:
        """Merge ``candles`` into the dataset (creating it) and return the number of bars added.

        Duplicates of stored bars are dropped, conflicting bars raise ``overlap_conflict`` and
        new bars are merged in wherever they fall (see :mod:`tradeplay.data.merge`).
        """
        validate_candles(candles, _candle_timeframe(key), source)
        return self._append(key, candles, source, generated=generated)

    def load_candles(
        self, key: DatasetKey, start_ms: int | None = None, end_ms: int | None = None
    ) -> Candles:
        """Bars opening in ``[start_ms, end_ms)`` (``None`` = open side); empty if none there.

        A missing dataset raises :class:`DataNotFoundError` listing what is stored instead.
        """
        _candle_timeframe(key)
        columns = self._read(key, CANDLE_COLUMNS, start_ms, end_ms)
        return Candles(**columns).between(start_ms, end_ms)

    # -- funding -----------------------------------------------------------------------------

    def write_funding(
        self,
        exchange: str,
        symbol: str,
        rates: FundingRates,
        *,
        source: str,
        generated: bool = False,
    ) -> DatasetInfo:
        """Replace the symbol's funding history with ``rates`` (validated first)."""
        key = DatasetKey.funding(exchange, symbol)
        validate_funding(rates, source)
        _require_rows(key, len(rates), source)
        with self._locked(key) as path:
            self._write(path, key, rates, [source], generated=generated)
            return self.info(key)

    def append_funding(
        self,
        exchange: str,
        symbol: str,
        rates: FundingRates,
        *,
        source: str,
        generated: bool = False,
    ) -> int:
        """Merge ``rates`` into the funding history, same rules as :meth:`append_candles`."""
        validate_funding(rates, source)
        return self._append(DatasetKey.funding(exchange, symbol), rates, source, generated)

    def load_funding(
        self, exchange: str, symbol: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> FundingRates:
        """Settlements in ``[start_ms, end_ms)``; missing dataset raises DataNotFoundError."""
        columns = self._read(
            DatasetKey.funding(exchange, symbol), FUNDING_COLUMNS, start_ms, end_ms
        )
        return FundingRates(**columns).between(start_ms, end_ms)

    # -- catalogue ---------------------------------------------------------------------------

    def exists(self, key: DatasetKey) -> bool:
        return self.path(key).is_file()

    def info(self, key: DatasetKey) -> DatasetInfo:
        """Describe one dataset from its file footer (no data is read)."""
        path = self.path(key)
        try:
            metadata, rows, size = read_footer(path)
        except FileNotFoundError:
            raise self._not_found(key) from None
        metadata = _check_metadata(path, metadata, key)
        return DatasetInfo(
            key=key,
            path=path,
            rows=rows,
            first_ms=int(metadata["first_ms"]),
            last_ms=int(metadata["last_ms"]),
            size_bytes=size,
            generated=bool(metadata["generated"]),
            source="; ".join(metadata["sources"]),
            gaps=int(metadata["gaps"]),
        )

    def list_datasets(self) -> list[DatasetInfo]:
        """Every dataset in the store, sorted by exchange, symbol, then funding / timeframe.

        Files that are not tradeplay datasets (foreign Parquet files, odd names) are skipped.
        """
        found = []
        for path in sorted(self.root.glob("*/*/*.parquet")):
            key = key_from_path(path)
            if key is None:
                continue
            try:
                found.append(self.info(key))
            except (DataNotFoundError, StateCorruptionError):
                continue  # deleted meanwhile, or not ours
        return sorted(found, key=lambda i: (i.key.exchange, i.key.symbol, sort_rank(i.key)))

    def delete(self, key: DatasetKey) -> None:
        """Remove the dataset (waits for a running writer; readers holding it open keep it)."""
        if not self.exists(key):
            raise self._not_found(key)  # without creating folders and a lock file for it
        with self._locked(key) as path:
            try:
                path.unlink()
            except FileNotFoundError:
                raise self._not_found(key) from None

    # -- internals ---------------------------------------------------------------------------

    def _write(
        self,
        path: Path,
        key: DatasetKey,
        series: Candles | FundingRates,
        sources: list[str],
        *,
        generated: bool,
    ) -> None:
        """Write ``series`` with its metadata; the caller holds the lock and validated it."""
        gaps = 0 if key.timeframe is None else count_gaps(series.ts, key.timeframe)
        metadata = {
            "schema_version": SCHEMA_VERSION,
            "kind": "funding" if key.is_funding else "candles",
            "exchange": key.exchange,
            "symbol": key.symbol,
            "timeframe": None if key.timeframe is None else str(key.timeframe),
            "sources": sources,
            "generated": generated,
            "first_ms": series.first_ms,
            "last_ms": series.last_ms,
            "gaps": gaps,
        }
        write_atomically(path, series.columns(), metadata)

    def _append(
        self, key: DatasetKey, series: Candles | FundingRates, source: str, generated: bool
    ) -> int:
        if len(series) == 0:
            return 0
        with self._locked(key) as path:
            if not path.is_file():
                self._write(path, key, series, [source], generated=generated)
                return len(series)
            columns, metadata = read_columns(path, tuple(series.columns()))
            metadata = _check_metadata(path, metadata, key)
            _check_same_provenance(key, metadata, source, generated)
            merged: Candles | FundingRates
            if isinstance(series, Candles):
                merged, added = merge_series(Candles(**columns), series, source)
            else:
                merged, added = merge_series(FundingRates(**columns), series, source)
            if added:
                sources = list(metadata["sources"])
                if source not in sources:
                    sources.append(source)
                self._write(path, key, merged, sources, generated=generated)
            return added

    def _read(
        self, key: DatasetKey, names: tuple[str, ...], start_ms: int | None, end_ms: int | None
    ) -> dict[str, Any]:
        path = self.path(key)
        try:
            columns, metadata = read_columns(path, names, start_ms, end_ms)
        except FileNotFoundError:
            raise self._not_found(key) from None
        _check_metadata(path, metadata, key)
        return columns

    def _not_found(self, key: DatasetKey) -> DataNotFoundError:
        """The missing-dataset error, listing what is stored for the symbol instead."""
        where = f"{self.path(key)}"
        symbol_dir = self.root / key.exchange / key.symbol
        here = sorted(
            (k for p in symbol_dir.glob("*.parquet") if (k := key_from_path(p)) is not None),
            key=sort_rank,
        )
        elsewhere = sorted(
            folder.parent.name
            for folder in self.root.glob(f"*/{key.symbol}")
            if folder.parent.name != key.exchange
            and any(key_from_path(p) is not None for p in folder.glob("*.parquet"))
        )
        if here:
            stored = ", ".join(str(k.timeframe or FUNDING) for k in here)
            hint = f"stored for {key.exchange} {key.symbol}: {stored}"
        else:
            hint = f"nothing is stored for {key.exchange} {key.symbol}"
        if elsewhere:
            hint += f"; {key.symbol} is stored for {', '.join(elsewhere)}"
        return DataNotFoundError(f"no dataset {key} in the store (expected {where}); {hint}")


def _candle_timeframe(key: DatasetKey) -> Timeframe:
    if key.timeframe is None:
        raise InputError(f"{key} is a funding dataset; use the funding methods for it")
    return key.timeframe


def _require_rows(key: DatasetKey, rows: int, source: str) -> None:
    if rows == 0:
        raise InputError(f"nothing to write to {key}: {source} holds no rows")


def _check_metadata(path: Path, metadata: dict[str, Any] | None, key: DatasetKey) -> dict[str, Any]:
    """The file's metadata, if this tradeplay can read it and it holds what its name says.

    Exchange and symbol may differ from the folder (a dataset copied under another name is
    still the same bars); the timeframe may not: a 1h file named ``1m.parquet`` is wrong data.
    """
    if metadata is None:
        raise StateCorruptionError(
            f"{path} was not written by tradeplay's store (no 'tradeplay' metadata)"
        )
    version = metadata.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StateCorruptionError(
            f"{path} has store schema version {version!r}; this tradeplay reads up to "
            f"{SCHEMA_VERSION} (upgrade tradeplay)"
        )
    expected = None if key.timeframe is None else str(key.timeframe)
    if (found := metadata.get("timeframe")) != expected:
        wanted = expected or FUNDING
        raise StateCorruptionError(f"{path} holds {found or FUNDING} data, not {wanted}")
    return metadata


def _check_same_provenance(
    key: DatasetKey, metadata: dict[str, Any], source: str, generated: bool
) -> None:
    """Refuse to mix generated and real rows: a dataset is wholly one or the other."""
    if bool(metadata["generated"]) != generated:
        stored = "generated" if metadata["generated"] else "real"
        new = "generated" if generated else "real"
        raise InputError(
            f"{key} holds {stored} data; refusing to merge {new} rows from {source} into it "
            "(delete the dataset first, or store them under another exchange name)"
        )
