"""Market structure kernels: shared scenario helpers, no lookahead per kind, speed guard.

The scenario tables themselves live in ``test_structure_swings.py`` (swing, trend, bos),
``test_structure_blocks.py`` (ob, fvg) and ``test_structure_zones.py`` (zones); the agreement
with slow from-the-definition Python in ``test_structure_reference.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from tradeplay.features import Feature

OPEN, HIGH, LOW, CLOSE = 1, 2, 3, 4
STRUCTURE = ("swing", "trend", "bos", "ob", "fvg", "zones")
MINUTE = 60_000.0


def candles(table: str) -> NDArray[np.float64]:
    """Bars from a readable table, one row per bar: ``bar open high low close``.

    Lines that do not start with a bar number (a header, a blank line) are skipped; a ``#``
    starts a comment. Timestamps are one minute apart, volume is 1.
    """
    rows: list[tuple[float, ...]] = []
    for line in table.splitlines():
        cells = line.split("#")[0].split()
        if not cells or not cells[0].isdigit():
            continue
        bar, o, high, low, close = cells
        assert int(bar) == len(rows), f"bars must be numbered 0, 1, 2, ...: {line!r}"
        o_, h_, l_, c_ = float(o), float(high), float(low), float(close)
        assert l_ <= min(o_, c_) <= max(o_, c_) <= h_, f"not a candle: {line!r}"
        rows.append((len(rows) * MINUTE, o_, h_, l_, c_, 1.0))
    return np.array(rows, dtype=np.float64)


def run(kind: str, bars: NDArray[np.float64], **params: Any) -> dict[str, NDArray[np.float64]]:
    """Each output of the batch path by name, after checking that streaming gives the same."""
    feature = Feature.of(kind, params)
    out = feature.batch(bars)
    stream = feature.stream()
    streamed = np.array([stream.step(bar).copy() for bar in bars])
    assert identical(out, streamed)
    return {name: out[:, k] for k, name in enumerate(feature.outputs)}


def expect(actual: dict[str, NDArray[np.float64]], **expected: list[float]) -> None:
    """Outputs equal the expected per-bar values (NaN = none / warm-up); dots spelled ``_``."""
    for key, values in expected.items():
        name = key.replace("_", ".", 1) if key.startswith(("bull_", "bear_")) else key
        np.testing.assert_allclose(
            actual[name], values, rtol=1e-12, atol=0.0, equal_nan=True, err_msg=name
        )


def identical(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Bit-for-bit equality, NaN equal to NaN."""
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def random_bars(rng: np.random.Generator, n: int, start: float, t0: float) -> NDArray[np.float64]:
    """A volatile random walk of ``n`` candles starting near ``start``: made-up futures."""
    closes = start * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    opens = np.r_[start, closes[:-1]] * np.exp(rng.normal(0.0, 0.003, n))
    wick = start * np.abs(rng.normal(0.0, 0.004, (2, n)))
    bars = np.empty((n, 6), dtype=np.float64)
    bars[:, 0] = t0 + MINUTE * np.arange(1, n + 1)
    bars[:, OPEN], bars[:, CLOSE] = opens, closes
    bars[:, HIGH] = np.maximum(opens, closes) + wick[0]
    bars[:, LOW] = np.minimum(opens, closes) - wick[1]
    bars[:, 5] = rng.exponential(10.0, n)
    return bars


@pytest.mark.parametrize("kind", STRUCTURE)
def test_a_value_at_bar_t_is_unchanged_when_every_later_bar_is_replaced(
    kind: str, eth_5m: NDArray[np.float64]
) -> None:
    bars = eth_5m[:2_000]
    feature = Feature.of(kind)
    truth = feature.batch(bars)
    rng = np.random.default_rng(11)
    for t in rng.integers(0, len(bars) - 1, size=25):
        other = bars.copy()
        other[t + 1 :] = random_bars(rng, len(bars) - t - 1, bars[t, CLOSE], bars[t, 0])
        assert identical(feature.batch(other)[: t + 1], truth[: t + 1]), t


@pytest.mark.parametrize("kind", STRUCTURE)
def test_every_structure_kind_reports_something_on_real_data(
    kind: str, btc_1h: NDArray[np.float64]
) -> None:
    """Not a vacuous kernel: on 3,000 real hourly bars every output takes a finite value."""
    out = Feature.of(kind).batch(btc_1h[-3_000:])
    assert np.isfinite(out).any(axis=0).all()
