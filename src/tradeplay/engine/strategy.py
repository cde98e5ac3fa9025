"""The strategy step: from a bar's four rule signals and the position to intents.

It never talks to an exchange and never sizes; it only says what should happen next, in order:

* a position is closed by its side's exit rule, by the other side's entry (a reversal closes
  first, then opens), or by the play's maximum holding time;
* a flat play (or one that just closed) opens on its side's entry rule;
* when both entries fire on the same bar while flat, neither is taken: the play contradicts
  itself on that bar, and guessing a side would be a silent choice made for the trader.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, NamedTuple

from tradeplay.domain.values import PositionSide


class Intent(StrEnum):
    ENTER_LONG = "enter_long"
    EXIT_LONG = "exit_long"
    ENTER_SHORT = "enter_short"
    EXIT_SHORT = "exit_short"

    @property
    def is_entry(self) -> bool:
        return self in _ENTRIES


_ENTRIES: Final = frozenset({Intent.ENTER_LONG, Intent.ENTER_SHORT})

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_FLAT, _LONG = PositionSide.FLAT, PositionSide.LONG
_ENTER_LONG, _ENTER_SHORT = Intent.ENTER_LONG, Intent.ENTER_SHORT
_EXIT_LONG, _EXIT_SHORT = Intent.EXIT_LONG, Intent.EXIT_SHORT


class Step(NamedTuple):
    """One intent and why: ``signal`` (a rule fired) or ``max_holding`` (time ran out)."""

    intent: Intent
    reason: str = "signal"


def decide(
    signals: Mapping[str, bool],
    side: PositionSide,
    *,
    bars_held: int = 0,
    max_holding_bars: int | None = None,
) -> list[Step]:
    """The steps for this bar, exits before entries."""
    long_in, short_in = signals["long.entry"], signals["short.entry"]
    if side is _FLAT:
        if long_in != short_in:
            return [Step(_ENTER_LONG if long_in else _ENTER_SHORT)]
        return []
    expired = max_holding_bars is not None and bars_held >= max_holding_bars
    is_long = side is _LONG
    reverse = short_in if is_long else long_in
    own_exit = signals["long.exit" if is_long else "short.exit"]
    if not (own_exit or reverse or expired):
        return []
    exit_intent, reverse_intent = (
        (_EXIT_LONG, _ENTER_SHORT) if is_long else (_EXIT_SHORT, _ENTER_LONG)
    )
    closing = Step(exit_intent, "signal" if own_exit or reverse else "max_holding")
    return [closing, Step(reverse_intent)] if reverse else [closing]
