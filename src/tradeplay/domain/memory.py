"""Bounded memory for what a long-running process remembers per order or per decision.

A runtime runs for months: a map that gains an entry per order (a fill id seen, an order's
timing, a closing order's reason) must forget its oldest entries or grow without end.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["remember"]

K = TypeVar("K")
V = TypeVar("V")


def remember(kept: dict[K, V], key: K, value: V, most: int | None) -> None:
    """Keep ``key`` in ``kept`` with at most ``most`` entries (``None``: no limit), forgetting
    the oldest first (a dict keeps the order of insertion)."""
    kept[key] = value
    if most is not None:
        while len(kept) > most:
            del kept[next(iter(kept))]
