"""The graduation pipeline's bookkeeping: where each play stands, each judgement and its audit.

:class:`Pipeline` applies the rule book of :mod:`tradeplay.graduation.ladder` to a play's
record in its stage and stores both the decision — with the evaluation's numbers, the
thresholds they met or missed, the reason and the capital share that follows — and the play's
new place. An operator's ``promote`` and ``demote`` go through the same records, named as the
operator's, so the audit trail holds every move whoever made it. A play demoted out of live
for a breach goes back into live only with the operator's approval, whatever the setting.

Carrying a decision out — starting the play in its new environment, flattening it where it
was — is the runtime's part; the pipeline says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradeplay.domain.errors import InputError
from tradeplay.domain.values import ms_from_utc
from tradeplay.graduation import (
    Check,
    Decision,
    Ladder,
    Placement,
    Stage,
    StageRecord,
    decide,
    evaluate,
)
from tradeplay.graduation.ladder import Action
from tradeplay.graduation.parity import ParityVerdict
from tradeplay.ports import Clock
from tradeplay.store import GraduationDecision, StoredPlacement
from tradeplay.store.graduation import GraduationRecords

__all__ = ["Pipeline", "PlayStanding"]

OPERATOR = "operator"
RELEASE = "release"
"""The verdict of an operator's release of a held play (see :meth:`Pipeline.operator_release`)."""


@dataclass(frozen=True, slots=True)
class PlayStanding:
    """What ``tradeplay pipeline status`` shows of one play."""

    placement: StoredPlacement
    last: GraduationDecision | None

    def days(self, now: datetime) -> float:
        return (now - self.placement.entered_at).total_seconds() / 86_400

    def checks(self) -> list[Check]:
        """The last judgement's checks, as stored: each number against its threshold."""
        if self.last is None:
            return []
        metrics = self.last.metrics
        return [
            Check(name, _number(metrics.get(name)), float(rule["threshold"]), rule["at_least"])
            for name, rule in self.last.thresholds.items()
        ]


class Pipeline:
    def __init__(self, records: GraduationRecords, ladder: Ladder, clock: Clock) -> None:
        self._records = records
        self.ladder = ladder
        self._clock = clock

    # -- where plays stand -------------------------------------------------------------------

    def enter(self, play: str, stage: Stage | None = None) -> StoredPlacement:
        """Place ``play`` on the ladder (its first stage by default) unless it is placed."""
        known = self._records.placement(play)
        if known is not None:
            return known
        first = stage or self.ladder.stages[0]
        now = self._clock.now()
        placement = StoredPlacement(
            play=play,
            stage=str(first),
            entered_at=now,
            share=self.ladder.entry_share(first),
            updated_at=now,
        )
        self._records.place(placement)
        return placement

    def placement(self, play: str) -> Placement:
        return _placement(self.stored(play))

    def hold(self, play: str, environment: str, placement: StoredPlacement) -> StoredPlacement:
        """``play``, moving into ``placement``, is not flat in ``environment``: it trades in no
        stage until its pair there is (stored, so a restart keeps it waiting). Where it stands
        now: ``placement`` held, or a newer move stored meanwhile, which is left as it is."""
        self._records.set_held(play, placement.entered_at, environment, self._clock.now())
        return self.stored(play)

    def release(self, play: str, placement: StoredPlacement) -> StoredPlacement:
        """``play``'s pair where ``placement`` was held is flat: it trades in its stage again.
        Where it stands now (a newer move stored meanwhile is left as it is)."""
        self._records.set_held(play, placement.entered_at, None, self._clock.now())
        return self.stored(play)

    def operator_release(self, play: str, reason: str) -> StoredPlacement:
        """The operator says ``play``'s pair where it was held is flat (closed at the venue,
        say, or its environment is gone): it trades in its stage again. Stored as a decision
        of theirs, with their reason."""
        stored = self.stored(play)
        _require_reason(RELEASE, play, reason)
        if stored.held_in is None:
            raise InputError(f"{play} is not held: it trades in {stored.stage} already")
        now = self._clock.now()
        self._records.record(
            GraduationDecision(
                play=play,
                from_stage=stored.stage,
                to_stage=stored.stage,
                verdict=RELEASE,
                decided_at=now,
                metrics={"by": OPERATOR, "held_in": stored.held_in},
                thresholds={},
                reason=f"{OPERATOR}: {reason.strip()} (flat in {stored.held_in})",
                share=stored.share,
            )
        )
        return self.release(play, stored)

    def find(self, play: str) -> StoredPlacement | None:
        """Where ``play`` stands, ``None`` if it is not on the ladder."""
        return self._records.placement(play)

    def status(self) -> list[PlayStanding]:
        return [
            PlayStanding(placement, next(reversed(self._records.history(placement.play)), None))
            for placement in self._records.placements()
        ]

    def history(self, play: str) -> list[GraduationDecision]:
        self.stored(play)
        return self._records.history(play)

    # -- judgements --------------------------------------------------------------------------

    def judge(
        self,
        record: StageRecord,
        parity: ParityVerdict | None,
        *,
        live_safety: bool,
    ) -> Decision:
        """Evaluate ``record`` against its stage's criteria, decide, and store both."""
        stored = self.stored(record.play)
        placement = _placement(stored)
        if record.stage is not placement.stage:
            raise InputError(
                f"{record.play} stands in {placement.stage}, not {record.stage}: a record is "
                "judged in the play's own stage"
            )
        criteria = self.ladder.criteria[placement.stage]
        has_next = self.ladder.above(placement.stage) is not None
        evaluation = evaluate(record, criteria, has_next=has_next)
        ladder = self.ladder
        if self._breached_live(record.play):  # back into live only when the operator says so
            ladder = ladder.model_copy(update={"live_approval": "operator"})
        decision = decide(
            placement,
            evaluation,
            parity,
            ladder,
            live_safety=live_safety,
            approved=stored.approved,
        )
        metrics: dict[str, Any] = dict(evaluation.metrics)
        # The window and share judged, so an audit can rebuild the record and judge it again.
        metrics["entered_at"] = stored.entered_at.isoformat()
        metrics["as_of_ms"] = record.as_of_ms
        metrics["stage_share"] = str(stored.share)
        metrics["live_approval"] = ladder.live_approval
        if parity is not None:
            metrics["parity"] = parity.describe()
        self._apply(decision, metrics, evaluation.thresholds(), stored)
        return decision

    def _breached_live(self, play: str) -> bool:
        """Whether ``play``'s last move was a demotion out of a live stage."""
        moves = [d for d in self._records.history(play) if d.from_stage != d.to_stage]
        return (
            bool(moves)
            and moves[-1].verdict == Action.DEMOTE
            and Stage(moves[-1].from_stage).is_live
        )

    def promote(self, play: str, reason: str) -> Decision:
        """The operator moves ``play`` one stage up (into live: this is the approval)."""
        stored = self.stored(play)
        _require_reason(Action.PROMOTE, play, reason)
        above = self.ladder.above(Stage(stored.stage))
        if above is None:
            raise InputError(f"{play} is already at the top of the ladder ({stored.stage})")
        return self._operator(stored, Action.PROMOTE, above, reason)

    def demote(self, play: str, reason: str) -> Decision:
        """The operator moves ``play`` one stage down (out of live: it is flattened first)."""
        stored = self.stored(play)
        _require_reason(Action.DEMOTE, play, reason)
        below = self.ladder.below(Stage(stored.stage))
        if below is None:
            raise InputError(f"{play} is already at the bottom of the ladder ({stored.stage})")
        return self._operator(stored, Action.DEMOTE, below, reason)

    def _operator(
        self, stored: StoredPlacement, action: Action, to: Stage, reason: str
    ) -> Decision:
        here = _placement(stored)
        decision = Decision(
            here.play,
            action,
            here.stage,
            to,
            self.ladder.entry_share(to),
            f"{OPERATOR}: {reason.strip()}",
            flatten=action is Action.DEMOTE and here.stage.is_live,
        )
        self._apply(decision, {"by": OPERATOR}, {}, stored)
        return decision

    def _apply(
        self,
        decision: Decision,
        metrics: dict[str, Any],
        thresholds: dict[str, Any],
        stored: StoredPlacement,
    ) -> None:
        now = self._clock.now()
        self._records.record(
            GraduationDecision(
                play=decision.play,
                from_stage=str(decision.from_stage),
                to_stage=str(decision.to_stage),
                verdict=str(decision.action),
                decided_at=now,
                metrics=metrics,
                thresholds=thresholds,
                reason=decision.reason,
                share=decision.share,
            )
        )
        moved = decision.to_stage is not decision.from_stage
        if not moved and decision.share == stored.share:
            return
        # A new stage, or a new share of the capital, starts a new record.
        self._records.place(
            StoredPlacement(
                play=decision.play,
                stage=str(decision.to_stage),
                entered_at=now,
                share=decision.share,
                # An operator's promotion into live is the approval; any move resets it.
                approved=False,
                updated_at=now,
                # A pair left unflattened by an earlier move still has to be flat first.
                held_in=stored.held_in,
            )
        )

    def stored(self, play: str) -> StoredPlacement:
        """Where ``play`` stands, as stored; :class:`InputError` naming the plays in it."""
        stored = self._records.placement(play)
        if stored is None:
            known = ", ".join(p.play for p in self._records.placements()) or "none yet"
            raise InputError(f"no play called {play!r} is in the pipeline (in it: {known})")
        return stored


def _require_reason(action: str, play: str, reason: str) -> None:
    if not reason.strip():
        raise InputError(f"{action} {play}: say why with --reason")


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _placement(stored: StoredPlacement) -> Placement:
    return Placement(
        stored.play,
        Stage(stored.stage),
        ms_from_utc(stored.entered_at),
        stored.share,
    )
