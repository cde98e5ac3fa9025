"""What the engine decided and why: signals acted on, orders sent, refusals and vetoes.

A refused entry (below the minimum size, a risk veto, a missing protection level) is a value
recorded here, not an exception: the run carries on, and the trader can read why a signal did
not become a trade.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeAlias

import structlog

from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import Money, Quantity
from tradeplay.engine.sizing import Sized
from tradeplay.engine.strategy import Intent

log = structlog.get_logger(__name__)


Detail: TypeAlias = str | Sized
"""A decision's detail, or the sized entry that explains it: the sizing arithmetic is put into
words only when someone reads it (for every entry of a backtest, that cost more than
deciding)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """One step of an instruction sequence and how it ended."""

    time: datetime
    bar: int
    step: str
    """``enter_long``, ``exit_short``, ``trailing_stop`` …"""
    outcome: str
    """``sent``, ``refused``, ``vetoed``, ``rejected``, ``skipped``."""
    why: Detail = ""

    @property
    def detail(self) -> str:
        """Why it ended so: the reason of a refusal or a veto, how a sent entry was sized."""
        return self.why if isinstance(self.why, str) else self.why.explanation


_Row: TypeAlias = (
    tuple[datetime, int, str, str, Detail]
    | tuple[datetime, int, str, str, Quantity, Money, str, tuple[Any, ...]]
)
"""``(time, bar, step, outcome, why)`` of one decision, the step as its text; a sized entry's
``why`` as its plain values ``qty, notional, template, values`` in place. Flat on purpose: the
garbage collector stops tracking a tuple only once the tuples inside it are untracked, one
level per collection, and a deeper row would reach the oldest generation still tracked."""
_STEPS: Final = {intent.value: intent for intent in Intent}


class Journal:
    """Every decision of one engine, in order.

    Kept as plain rows, built into :class:`Decision` records only when read: a backtest records
    two decisions per round trip and seldom reads them, and a tuple of plain values (a sized
    entry as its numbers and words, a step as its text) is one the garbage collector stops
    tracking, where tens of thousands of records would each be visited at every full collection.

    ``keep``: how many of the latest decisions it keeps (``None``: every one, for a backtest
    that reads them at its end). A runner that runs for months keeps a window: without one its
    journal would grow with every decision for as long as the process lives.
    """

    __slots__ = ("_rows",)

    def __init__(self, keep: int | None = None) -> None:
        if keep is not None and keep < 1:
            raise ValueError(f"a journal keeps at least one decision, not {keep}")
        self._rows: deque[_Row] = deque(maxlen=keep)

    @property
    def decisions(self) -> list[Decision]:
        """The decisions kept, oldest first (new records, equal to those recorded)."""
        return [
            Decision(time, bar, _STEPS.get(step, step), outcome, _detail(why))
            for time, bar, step, outcome, *why in self._rows
        ]

    def record(self, time: datetime, bar: int, step: str, outcome: str, why: Detail = "") -> None:
        """One step of an instruction sequence and how it ended (see :class:`Decision`)."""
        if type(why) is Sized:
            template, values = why.words
            row: _Row = (time, bar, str(step), outcome, why.qty, why.notional, template, values)
        else:
            row = (time, bar, str(step), outcome, why)
        self._rows.append(row)
        if outcome != "sent":
            log.debug(
                "engine_decision",
                bar=bar,
                step=step,
                outcome=outcome,
                detail=why if isinstance(why, str) else why.explanation,
            )

    def count(self, outcome: str) -> int:
        return sum(1 for row in self._rows if row[3] == outcome)


def _detail(why: list[Any]) -> Detail:
    """A kept detail as it was recorded (a sized entry becomes an equal :class:`Sized`)."""
    if len(why) == 1:
        detail: Detail = why[0]
        return detail
    qty, notional, template, values = why
    return Sized(qty=qty, notional=notional, words=(template, values))
