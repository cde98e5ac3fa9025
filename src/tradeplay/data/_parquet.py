"""Parquet file mechanics of the store: the on-disk encoding, atomic replacement, fast reads.

Encoding, chosen by measurement (``bench/bench_store.py``; 1,000,000 1m bars, 2-core machine):

* ``ts`` DELTA_BINARY_PACKED (a fixed step compresses to almost nothing), float columns
  BYTE_STREAM_SPLIT (groups the bytes of each double, which lets the compressor see the
  repeating exponents), LZ4, no dictionaries (float prices rarely repeat enough to pay off).
  About 20 MB per million real bars and ~30 ms to load, versus 48 MB / ~20 ms uncompressed and
  18 MB / ~45 ms for zstd: LZ4 keeps most of the size win at almost no read cost.
* Row groups of 131,072 rows (three months of 1m bars), so a range load decodes only the row
  groups whose ``ts`` statistics overlap the range.

Every write goes to a temporary file in the target directory, is fsynced, and then
``os.replace``-d over the target, so a reader opens either the old or the new file, never a
half-written one; the directory is fsynced afterwards so the rename survives a power cut.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

__all__ = [
    "METADATA_KEY",
    "read_columns",
    "read_footer",
    "remove_stale_temporaries",
    "write_atomically",
]

#: Schema metadata key holding tradeplay's JSON description of a dataset file.
METADATA_KEY: Final = "tradeplay"
ROW_GROUP_ROWS: Final = 131_072
COMPRESSION: Final = "lz4"


def _encodings(names: list[str]) -> dict[str, str]:
    return {n: "DELTA_BINARY_PACKED" if n == "ts" else "BYTE_STREAM_SPLIT" for n in names}


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX only; Windows cannot open directories)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(
    path: Path, columns: dict[str, NDArray[Any]], metadata: dict[str, Any]
) -> None:
    """Write ``columns`` to ``path`` as one Parquet file, replacing any old file atomically."""
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(metadata)})
    path.parent.mkdir(parents=True, exist_ok=True)
    # The dot prefix and .tmp suffix keep half-written files out of every dataset listing.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(temp_name)
    try:
        pq.write_table(
            table,
            temp,
            compression=COMPRESSION,
            use_dictionary=False,
            column_encoding=_encodings(list(columns)),
            row_group_size=ROW_GROUP_ROWS,
        )
        temp.chmod(0o644)  # mkstemp creates 0600; datasets are shared read-only data
        fd = os.open(temp, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)


def read_footer(path: Path) -> tuple[dict[str, Any] | None, int, int]:
    """The tradeplay metadata (``None`` for a foreign file), row count and file size.

    One open file for all three, so they describe the same version even if a writer replaces
    the file meanwhile.
    """
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        footer = pq.read_metadata(handle)
    raw = (footer.metadata or {}).get(METADATA_KEY.encode())
    return (json.loads(raw) if raw is not None else None), int(footer.num_rows), size


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files a crashed writer of ``path`` left behind.

    Only safe while holding the dataset's writer lock: then no live writer owns one.
    """
    for temporary in path.parent.glob(f".{path.name}.*.tmp"):
        with suppress(FileNotFoundError):
            temporary.unlink()


def _overlapping_row_groups(
    footer: Any, ts_index: int, start_ms: int | None, end_ms: int | None
) -> list[int]:
    """Row groups whose ``ts`` min/max statistics overlap ``[start_ms, end_ms)``."""
    chosen = []
    for group in range(footer.num_row_groups):
        stats = footer.row_group(group).column(ts_index).statistics
        if stats is not None and stats.has_min_max:
            if start_ms is not None and stats.max < start_ms:
                continue
            if end_ms is not None and stats.min >= end_ms:
                continue
        chosen.append(group)
    return chosen


def _to_numpy(column: pa.ChunkedArray, dtype: type[np.generic]) -> NDArray[Any]:
    # One chunk converts without copying; several (one per row group) must be joined once.
    if column.num_chunks == 1:
        return np.asarray(column.chunk(0).to_numpy(zero_copy_only=True))
    if column.num_chunks == 0:
        return np.empty(0, dtype=dtype)
    return np.concatenate([chunk.to_numpy(zero_copy_only=True) for chunk in column.chunks])


def read_columns(
    path: Path,
    names: tuple[str, ...],
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> tuple[dict[str, NDArray[Any]], dict[str, Any] | None]:
    """Read ``names`` (``ts`` first) from the row groups that may hold ``[start_ms, end_ms)``.

    The caller trims the rows to the exact range. Memory-mapped: the decoder reads pages
    straight from the page cache. Returns the columns and the tradeplay metadata.
    """
    with pq.ParquetFile(path, memory_map=True) as parquet:  # closed now, not at some GC
        raw = (parquet.schema_arrow.metadata or {}).get(METADATA_KEY.encode())
        metadata = json.loads(raw) if raw is not None else None
        if start_ms is None and end_ms is None:
            table = parquet.read(columns=list(names), use_threads=True)
        else:
            ts_index = parquet.schema_arrow.get_field_index("ts")
            groups = _overlapping_row_groups(parquet.metadata, ts_index, start_ms, end_ms)
            table = parquet.read_row_groups(groups, columns=list(names), use_threads=True)
    columns = {
        name: _to_numpy(table.column(name), np.int64 if name == "ts" else np.float64)
        for name in names
    }
    return columns, metadata
