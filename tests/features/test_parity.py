"""Parity by construction, proven for every registered feature on real data.

* replay identity: the streaming path fed bar by bar reproduces the batch arrays exactly;
* future invariance: cutting the data at bar t changes no value before t (no lookahead);
* warm-up: values are NaN for exactly the announced number of bars, never a guess.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tradeplay.features import REGISTRY, Feature

KINDS = REGISTRY.kinds()
SPARSE = "sparse"  # tag: values may be NaN after warm-up (e.g. no swing seen yet)


def _identical(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Bit-for-bit equality, NaN equal to NaN."""
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("kind", KINDS)
def test_streaming_bar_by_bar_equals_the_batch_exactly(
    kind: str, btc_1h: NDArray[np.float64]
) -> None:
    bars = btc_1h[-3_000:]
    feature = Feature.of(kind)
    batch = feature.batch(bars)
    stream = feature.stream()
    streamed = np.array([stream.step(bar).copy() for bar in bars])
    assert _identical(batch, streamed)


@pytest.mark.parametrize("kind", KINDS)
def test_values_before_the_warmup_are_nan_and_the_first_after_it_is_known(
    kind: str, btc_1h: NDArray[np.float64]
) -> None:
    feature = Feature.of(kind)
    out = feature.batch(btc_1h[-3_000:])
    assert np.isnan(out[: feature.warmup]).all()
    if SPARSE not in feature.spec.tags:
        assert np.isfinite(out[feature.warmup]).all(), out[feature.warmup]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=15, deadline=None)
@given(cut=st.integers(min_value=1, max_value=2_999))
def test_cutting_the_data_changes_no_earlier_value(
    kind: str, cut: int, eth_5m: NDArray[np.float64]
) -> None:
    bars = eth_5m[:3_000]
    feature = Feature.of(kind)
    assert _identical(feature.batch(bars[:cut]), feature.batch(bars)[:cut])


@pytest.mark.parametrize("kind", KINDS)
def test_every_feature_is_documented_and_names_its_outputs(kind: str) -> None:
    spec = REGISTRY.get(kind)
    assert spec.doc
    assert spec.outputs
    assert len(set(spec.outputs)) == len(spec.outputs)
