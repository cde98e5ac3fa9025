"""Shared helpers for TA-Lib agreement cases (one ``cases_*.py`` module per kernel module)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

TS, OPEN, HIGH, LOW, C, VOLUME = range(6)
H, L, V = HIGH, LOW, VOLUME
Call = Callable[[NDArray[np.float64]], tuple[NDArray[np.float64], ...]]


@dataclass(frozen=True)
class Case:
    """Our feature with these parameters equals this TA-Lib call, output by output."""

    kind: str
    params: dict[str, Any]
    call: Call
    outputs: dict[str, int] = field(default_factory=lambda: {"value": 0})
    """Our output name -> index into TA-Lib's returned tuple."""

    @property
    def id(self) -> str:
        return self.kind + "".join(f"-{k}{v}" for k, v in self.params.items())


def on(fn: Callable[..., Any], *columns: int, **kw: Any) -> Call:
    """A TA-Lib call on the given bar columns (default: close), with keyword parameters."""
    chosen = columns or (C,)

    def call(bars: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        result = fn(*(np.ascontiguousarray(bars[:, c]) for c in chosen), **kw)
        return result if isinstance(result, tuple) else (result,)

    return call
