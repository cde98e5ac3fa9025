"""What the engine decided and why: signals acted on, orders sent, refusals and vetoes.

A refused entry (below the minimum size, a risk veto, a missing protection level) is a value
recorded here, not an exception: the run carries on, and the trader can read why a signal did
not become a trade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    """One step of an instruction sequence and how it ended."""

    time: datetime
    bar: int
    step: str
    """``enter_long``, ``exit_short``, ``trailing_stop`` …"""
    outcome: str
    """``sent``, ``refused``, ``vetoed``, ``rejected``, ``skipped``."""
    detail: str = ""


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
