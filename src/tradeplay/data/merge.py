"""Merging newly fetched bars into a stored series without ever rewriting history.

A closed bar (or a settled funding rate) is a fact: the exchange never changes it. So when new
data overlaps what is stored:

* a row whose timestamp is already stored must carry exactly the stored values; it is dropped
  as a duplicate (re-downloading an overlapping window is normal and harmless);
* a row that differs from the stored one means one of the two sources is wrong (a bar
  downloaded before it closed, a different exchange, a gap filled with synthetic bars): that is
  rule ``overlap_conflict``, and nothing is written;
* rows with new timestamps are merged in wherever they fall - after the last stored bar (the
  usual append), before the first (back-filling history) or into a gap - because all three are
  just more facts. The result stays sorted and unique; gaps are allowed and counted by the
  store, since closing them is a matter for the importer's gap policy.

Both inputs must be validated series (sorted, unique timestamps).
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from tradeplay.data._utc import iso_utc
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import DataValidationError

__all__ = ["merge_series"]

Series = TypeVar("Series", Candles, FundingRates)


def _stored_positions(
    stored_ts: NDArray[np.int64], new_ts: NDArray[np.int64]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """For each new row: index of the stored row with the same ``ts``, and whether there is one."""
    positions = np.searchsorted(stored_ts, new_ts)
    clipped = np.minimum(positions, len(stored_ts) - 1)  # stored_ts is not empty
    found = (positions < len(stored_ts)) & (stored_ts[clipped] == new_ts)
    return clipped, found


def _check_conflicts(
    stored: dict[str, NDArray[Any]],
    new: dict[str, NDArray[Any]],
    positions: NDArray[np.intp],
    found: NDArray[np.bool_],
    source: str,
) -> None:
    """Raise ``overlap_conflict`` for the earliest new row that disagrees with a stored row."""
    value_names = [name for name in new if name != "ts"]
    differs = {name: found & (stored[name][positions] != new[name]) for name in value_names}
    any_differs = np.logical_or.reduce(list(differs.values()))
    if not any_differs.any():
        return
    row = int(any_differs.argmax())
    name = next(n for n in value_names if differs[n][row])
    stored_value = float(stored[name][positions[row]])
    new_value = float(new[name][row])
    detail = (
        f"the bar at {iso_utc(int(new['ts'][row]))} is already stored with {name} "
        f"{stored_value!r}, the new data has {name} {new_value!r}; stored history never "
        "changes, so one of the two sources is wrong (delete the dataset to replace it)"
    )
    raise DataValidationError(source, "overlap_conflict", detail, row=row + 1)


def merge_series(stored: Series, new: Series, source: str) -> tuple[Series, int]:
    """Return ``stored`` with the rows of ``new`` it lacks, and how many rows that added.

    ``source`` names the new data in a conflict message; the conflict's row is the 1-based row
    of ``new``. Returns ``stored`` itself when nothing is added.
    """
    if len(stored) == 0:
        return new, len(new)
    old, fresh = stored.columns(), new.columns()
    positions, found = _stored_positions(old["ts"], fresh["ts"])
    _check_conflicts(old, fresh, positions, found, source)
    keep = ~found
    added = int(np.count_nonzero(keep))
    if added == 0:
        return stored, 0
    joined = {name: np.concatenate((old[name], fresh[name][keep])) for name in old}
    if fresh["ts"][keep][0] <= old["ts"][-1]:
        # Back-fill or gap-fill: restore time order (stable, so ties cannot occur anyway).
        order = np.argsort(joined["ts"], kind="stable")
        joined = {name: values[order] for name, values in joined.items()}
    return type(stored)(**joined), added
