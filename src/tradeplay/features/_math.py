"""Small numba helpers shared by kernels. Inlined into each kernel at compile time."""

from __future__ import annotations

import numpy as np
from numba import njit

NAN = np.nan


@njit(inline="always", cache=True)
def source(bars, i, code):  # type: ignore[no-untyped-def]
    """The value of price source ``code`` (see ``spec.SOURCES``) at bar ``i``."""
    if code <= 4:
        return bars[i, 1 + int(code)]
    if code == 5:
        return (bars[i, 2] + bars[i, 3]) / 2.0
    if code == 6:
        return (bars[i, 2] + bars[i, 3] + bars[i, 4]) / 3.0
    return (bars[i, 1] + bars[i, 2] + bars[i, 3] + bars[i, 4]) / 4.0


@njit(inline="always", cache=True)
def ring_push(state, base, size, slot, value):  # type: ignore[no-untyped-def]
    """Store ``value`` in the ring of ``size`` floats at ``state[base:]``; return what it evicted.

    ``slot`` is the running count of pushes before this one (the ring position is its modulo).
    """
    index = base + int(slot) % size
    old = state[index]
    state[index] = value
    return old


@njit(inline="always", cache=True)
def ring_get(state, base, size, count, back):  # type: ignore[no-untyped-def]
    """The value pushed ``back`` pushes ago (0 = the latest) in a ring holding ``count`` pushes."""
    return state[base + int(count - 1 - back) % size]
