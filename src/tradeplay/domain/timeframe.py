"""Candle timeframes: ``1m``, ``5m``, ``1h``, ``4h``, ``1d`` … as exact millisecond spans.

Bars are labelled by their **open time** (UTC, milliseconds since the epoch) and aligned to the
timeframe counted from the Unix epoch, as Bybit and Binance align them: an ``1h`` bar opens on the
hour, a ``4h`` bar at 00, 04, 08 … UTC, a ``1d`` bar at 00:00 UTC. Weeks are not supported yet
(exchanges align them to Monday, not to the epoch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tradeplay.domain.errors import InputError

_UNIT_MS: Final = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PATTERN: Final = re.compile(r"^(\d+)([mhd])$")


@dataclass(frozen=True, slots=True, order=True)
class Timeframe:
    """A bar length. Ordered by duration; ``str()`` gives the canonical name (``"15m"``)."""

    ms: int

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Read ``"1m"``, ``"15m"``, ``"1h"``, ``"4h"``, ``"1d"``.

        ``"60m"`` is the same as ``"1h"``.
        """
        match = _PATTERN.match(text.strip())
        if match is None or int(match.group(1)) == 0:
            raise InputError(
                f"timeframe {text!r} is not understood: expected a positive number and a unit "
                "m, h or d, e.g. 1m, 5m, 15m, 1h, 4h, 1d"
            )
        return cls(int(match.group(1)) * _UNIT_MS[match.group(2)])

    @property
    def name(self) -> str:
        for unit in ("d", "h", "m"):
            if self.ms % _UNIT_MS[unit] == 0:
                return f"{self.ms // _UNIT_MS[unit]}{unit}"
        return f"{self.ms}ms"  # unreachable for parsed timeframes; kept for honesty

    def __str__(self) -> str:
        return self.name

    def is_aligned(self, ts_ms: int) -> bool:
        """True when a bar of this timeframe may open at ``ts_ms``."""
        return ts_ms % self.ms == 0

    def floor(self, ts_ms: int) -> int:
        """Open time of the bar of this timeframe that contains ``ts_ms``."""
        return ts_ms - ts_ms % self.ms

    def divides(self, larger: Timeframe) -> bool:
        """True when bars of ``larger`` are made of whole bars of this timeframe."""
        return larger.ms % self.ms == 0 and larger.ms >= self.ms
