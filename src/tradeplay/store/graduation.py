"""The audit trail of graduation decisions (issue 8): every promotion, demotion or hold, with the
numbers behind it and the thresholds it was measured against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tradeplay.domain.values import require_utc
from tradeplay.store import _json
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once
from tradeplay.store.schema import graduation_decisions


@dataclass(frozen=True, slots=True, kw_only=True)
class GraduationDecision:
    """One decision about a play: from which stage to which, the verdict and why.

    ``metrics`` and ``thresholds`` are JSON documents (money and ratios as text or numbers).
    """

    play: str
    from_stage: str
    to_stage: str
    verdict: str
    """e.g. ``promote``, ``hold``, ``demote``, ``awaiting_approval``."""
    decided_at: datetime
    metrics: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_utc(self.decided_at, f"graduation decision of {self.play} time")


class GraduationRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, decision: GraduationDecision) -> bool:
        """Store ``decision``; ``False`` if it was already stored."""
        what = f"graduation decision of {decision.play}"
        row = {
            "play": decision.play,
            "from_stage": decision.from_stage,
            "to_stage": decision.to_stage,
            "verdict": decision.verdict,
            "metrics": _json.dump(dict(decision.metrics), f"{what}: metrics"),
            "thresholds": _json.dump(dict(decision.thresholds), f"{what}: thresholds"),
            "decided_at": decision.decided_at,
        }
        key = ("play", "from_stage", "decided_at")
        with self._begin() as connection:
            return insert_once(connection, graduation_decisions, row, key)

    def history(self, play: str | None = None) -> list[GraduationDecision]:
        """Decisions oldest first, of one play when given."""
        table = graduation_decisions
        query = select(table).order_by(table.c.decided_at, table.c.id)
        if play is not None:
            query = query.where(table.c.play == play)
        with self._begin() as connection:
            rows = connection.execute(query).all()
        return [
            GraduationDecision(
                play=row.play,
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                verdict=row.verdict,
                decided_at=row.decided_at,
                metrics=_json.load(row.metrics, f"graduation decision {row.id}: metrics"),
                thresholds=_json.load(row.thresholds, f"graduation decision {row.id}: thresholds"),
            )
            for row in rows
        ]
