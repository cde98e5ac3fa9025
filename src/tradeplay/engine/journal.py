"""What the engine decided and why: signals acted on, orders sent, refusals and vetoes.

A refused entry (below the minimum size, a risk veto, a missing protection level) is a value
recorded here, not an exception: the run carries on, and the trader can read why a signal did
not become a trade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeAlias

import structlog

from tradeplay.domain.slots import quick_init

log = structlog.get_logger(__name__)


class Explained(Protocol):
    """A value that can say how it came about, such as a sized entry."""

    @property
    def explanation(self) -> str: ...


Detail: TypeAlias = str | Explained
"""A decision's detail, or the value that explains it: a sent entry's sizing arithmetic is put
into words only when someone reads it (for every entry of a backtest, that cost more than
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


@dataclass(slots=True)
class Journal:
    """Every decision of one engine, in order."""

    decisions: list[Decision] = field(default_factory=list)

    def record(self, decision: Decision) -> None:
        self.decisions.append(decision)
        if decision.outcome != "sent":
            log.debug(
                "engine_decision",
                bar=decision.bar,
                step=decision.step,
                outcome=decision.outcome,
                detail=decision.detail,
            )

    def count(self, outcome: str) -> int:
        return sum(1 for decision in self.decisions if decision.outcome == outcome)
