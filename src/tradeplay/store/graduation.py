"""The graduation pipeline's records (issue 8): where each play stands on the ladder, and the
audit trail of every decision — promotion, demotion, hold, ramp — with the numbers behind it,
the thresholds it was measured against and the reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from tradeplay.domain.values import require_utc
from tradeplay.store import _json
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once, upsert
from tradeplay.store.schema import graduation_decisions, pipeline_placements, stage_bars

__all__ = ["GraduationDecision", "GraduationRecords", "StageBar", "StoredPlacement"]


@dataclass(frozen=True, slots=True)
class StageBar:
    """A bar a play saw in a stage: ``row`` is (open ms, open, high, low, close, volume);
    ``signals`` the rules that fired on it, or ``None`` for a warm-up bar (not traded).
    ``traded``: whether the engine ran on it — it did not while the pair was paused or its
    account not yet reconciled, and then the rules' signals were computed but not acted on."""

    row: tuple[float, float, float, float, float, float]
    signals: tuple[str, ...] | None
    traded: bool = True

    def __post_init__(self) -> None:
        if self.signals is None and self.traded:
            raise ValueError("a warm-up bar (no signals) is not traded")


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
    reason: str = ""
    share: Decimal | None = None
    """The share of the play's capital it trades after the decision."""

    def __post_init__(self) -> None:
        require_utc(self.decided_at, f"graduation decision of {self.play} time")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlacement:
    """Where a play stands: its stage since ``entered_at``, the share of its capital it trades
    there, and whether the operator approved its promotion into live."""

    play: str
    stage: str
    entered_at: datetime
    share: Decimal
    approved: bool = False
    updated_at: datetime
    held_in: str | None = None
    """The environment where the play could not be flattened when it last moved: it trades
    in no stage until its pair there is flat (nothing is left behind that no engine manages)."""

    def __post_init__(self) -> None:
        require_utc(self.entered_at, f"placement of {self.play}: entered_at")
        require_utc(self.updated_at, f"placement of {self.play}: updated_at")


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
            "reason": decision.reason,
            "share": decision.share,
        }
        key = ("play", "from_stage", "verdict", "decided_at")
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
                reason=row.reason,
                share=row.share,
            )
            for row in rows
        ]

    # -- stage bars ------------------------------------------------------------------------

    def add_bars(self, play: str, entered_at: datetime, bars: Sequence[StageBar]) -> None:
        """Keep ``bars`` of ``play``'s stage entered at ``entered_at`` (one seen twice, as
        after a restart, is kept once)."""
        key = ("play", "entered_at", "open_ms")
        with self._begin() as connection:
            for bar in bars:
                ms, open_, high, low, close, volume = bar.row
                row = {
                    "play": play,
                    "entered_at": entered_at,
                    "open_ms": int(ms),
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                    "signals": None
                    if bar.signals is None
                    else _json.dump(list(bar.signals), f"stage bar of {play}"),
                    "traded": bar.traded,
                }
                insert_once(connection, stage_bars, row, key)

    def has_bars(self, play: str, entered_at: datetime) -> bool:
        """Whether ``play``'s stage entered at ``entered_at`` has a tape yet."""
        table = stage_bars
        query = (
            select(table.c.open_ms)
            .where(table.c.play == play, table.c.entered_at == entered_at)
            .limit(1)
        )
        with self._begin() as connection:
            return connection.execute(query).first() is not None

    def bars(self, play: str, entered_at: datetime, until_ms: int | None = None) -> list[StageBar]:
        """The bars of ``play``'s stage entered at ``entered_at``, oldest first (those opened
        before ``until_ms`` when given)."""
        table = stage_bars
        query = (
            select(table)
            .where(table.c.play == play, table.c.entered_at == entered_at)
            .order_by(table.c.open_ms)
        )
        if until_ms is not None:
            query = query.where(table.c.open_ms < until_ms)
        with self._begin() as connection:
            rows = connection.execute(query).all()
        return [
            StageBar(
                (float(r.open_ms), r.open, r.high, r.low, r.close, r.volume),
                None
                if r.signals is None
                else tuple(_json.load(r.signals, f"stage bar {r.open_ms} of {play}")),
                traded=r.traded,
            )
            for r in rows
        ]

    # -- placements ------------------------------------------------------------------------

    def place(self, placement: StoredPlacement) -> None:
        """Store where ``placement.play`` stands now (replacing where it stood)."""
        row = {
            "play": placement.play,
            "stage": placement.stage,
            "entered_at": placement.entered_at,
            "share": placement.share,
            "approved": placement.approved,
            "updated_at": placement.updated_at,
            "held_in": placement.held_in,
        }
        with self._begin() as connection:
            upsert(connection, pipeline_placements, row, ("play",))

    def set_held(
        self, play: str, entered_at: datetime, held_in: str | None, updated_at: datetime
    ) -> bool:
        """Store that ``play``'s placement entered at ``entered_at`` is held in ``held_in``
        (``None``: not held) — only if it still stands there: a move stored meanwhile (by the
        operator's command, another process) is not overwritten. Whether it was written."""
        table = pipeline_placements
        statement = (
            update(table)
            .where(table.c.play == play, table.c.entered_at == entered_at)
            .values(held_in=held_in, updated_at=updated_at)
        )
        with self._begin() as connection:
            return connection.execute(statement).rowcount == 1

    def placement(self, play: str) -> StoredPlacement | None:
        table = pipeline_placements
        with self._begin() as connection:
            row = connection.execute(select(table).where(table.c.play == play)).one_or_none()
        return None if row is None else _placement(row)

    def placements(self) -> list[StoredPlacement]:
        """Every play in the pipeline, by name."""
        table = pipeline_placements
        with self._begin() as connection:
            rows = connection.execute(select(table).order_by(table.c.play)).all()
        return [_placement(row) for row in rows]


def _placement(row: Any) -> StoredPlacement:
    return StoredPlacement(
        play=row.play,
        stage=row.stage,
        entered_at=row.entered_at,
        share=row.share,
        approved=row.approved,
        updated_at=row.updated_at,
        held_in=row.held_in,
    )
