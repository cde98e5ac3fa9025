"""Where a play stands on the ladder, and what an evaluation there decides.

:func:`decide` is the pipeline's rule book, a pure function of the play's placement, its
evaluation, the parity gate's verdict and the settings:

* a **breach** (an evaluation's ``demote``) sends the play one stage down — from a live stage
  with the order to flatten and halt it there first;
* a **proven** record promotes to the next stage, but only through the parity gate: no verdict
  or a failed one blocks the promotion and says why;
* into a **live** stage from below: only when the live environment has its safety limits, and
  with the operator's approval unless the settings make it automatic;
* in the **top** stage, a record that keeps proving itself **ramps** the capital up one step
  at a time (from the first step to the full capital); at the pilot stage the play trades the
  pilot share.

Every decision names the stages, the capital share and the reason; the runtime carries it out
and stores it with the evaluation's numbers (the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tradeplay.graduation.criteria import DEFAULT_CRITERIA, DEFAULT_LADDER, Criteria, Stage
from tradeplay.graduation.evaluation import Evaluation, Verdict
from tradeplay.graduation.parity import ParityVerdict

__all__ = ["Action", "Decision", "Ladder", "Placement", "decide"]

Share = Annotated[Decimal, Field(gt=0, le=1)]
FULL: Final = Decimal(1)


class Ladder(BaseModel):
    """The pipeline's settings (a deployment's ``pipeline:`` section)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stages: tuple[Stage, ...] = DEFAULT_LADDER
    criteria: dict[Stage, Criteria] = Field(default_factory=lambda: dict(DEFAULT_CRITERIA))
    """Per stage, the defaults of :data:`DEFAULT_CRITERIA` with what is given here changed
    (``null`` switches a default criterion off)."""
    live_approval: Literal["operator", "automatic"] = "operator"
    pilot_share: Share = Decimal("0.1")
    """Share of the play's capital traded in ``live_pilot``."""
    ramp: tuple[Share, ...] = (Decimal("0.25"), Decimal("0.5"), FULL)
    """Shares of the play's capital in ``live``, one step per proven evaluation; ends at 1."""
    venue_fill_tolerance_bps: Decimal = Field(default=Decimal(5), ge=0)
    """How far a venue's fill price may stray from the replay's in the parity gate (stages
    whose fills come from the local simulator are held to exact equality)."""
    environments: dict[Stage, str] = Field(default_factory=dict)
    """The deployment environment each running stage trades in; a stage left out runs in the
    one environment of its kind (``live_pilot`` and ``live``: the ``live`` one)."""
    evaluate_every_minutes: int = Field(default=60, gt=0)
    """How often, in market time, a running play's record is judged (each one is stored)."""

    @field_validator("criteria", mode="before")
    @classmethod
    def _over_the_defaults(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given  # the field's own error names what was expected
        merged: dict[Any, Any] = {
            str(stage): criteria.model_dump() for stage, criteria in DEFAULT_CRITERIA.items()
        }
        for stage, changes in given.items():
            name = str(stage)
            if isinstance(changes, Criteria):
                merged[name] = {**merged.get(name, {}), **changes.model_dump(exclude_unset=True)}
            elif isinstance(changes, dict):
                merged[name] = {**merged.get(name, {}), **changes}
            else:
                merged[name] = changes
        return merged

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        if len(set(self.stages)) != len(self.stages) or len(self.stages) < 2:
            raise ValueError("stages: expected at least two stages, each once")
        if list(self.ramp) != sorted(self.ramp) or self.ramp[-1] != FULL:
            raise ValueError("ramp: expected rising shares of the capital ending at 1")
        return self

    def below(self, stage: Stage) -> Stage | None:
        index = self.stages.index(stage)
        return self.stages[index - 1] if index > 0 else None

    def above(self, stage: Stage) -> Stage | None:
        index = self.stages.index(stage)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    @property
    def running(self) -> tuple[Stage, ...]:
        """The stages a deployment runs (the backtest stage is judged from a backtest)."""
        return tuple(stage for stage in self.stages if stage is not Stage.BACKTEST)

    def entry_share(self, stage: Stage) -> Decimal:
        """The capital share a play starts a stage with."""
        if stage is Stage.LIVE_PILOT:
            return self.pilot_share
        if stage is Stage.LIVE:
            return self.ramp[0]
        return FULL


@dataclass(frozen=True, slots=True)
class Placement:
    """A play's place: its stage, since when, and the share of its capital it trades."""

    play: str
    stage: Stage
    entered_ms: int
    share: Decimal = FULL


class Action(StrEnum):
    PROMOTE = "promote"
    DEMOTE = "demote"
    HOLD = "hold"
    RAMP = "ramp"
    BLOCKED = "blocked"
    """Proven, but the parity gate or the live safety settings stop the promotion."""
    AWAIT_APPROVAL = "awaiting_approval"


@dataclass(frozen=True, slots=True)
class Decision:
    play: str
    action: Action
    from_stage: Stage
    to_stage: Stage
    share: Decimal
    reason: str
    flatten: bool = False
    """Close the play's position and orders in ``from_stage`` before it leaves (a live breach)."""


def decide(  # noqa: PLR0911  # one return per rule of the book above
    placement: Placement,
    evaluation: Evaluation,
    parity: ParityVerdict | None,
    ladder: Ladder,
    *,
    live_safety: bool,
    approved: bool = False,
) -> Decision:
    """What ``evaluation`` of ``placement`` decides (see the module docstring).

    ``live_safety``: whether the live environment the play would trade in has its safety
    limits set (drawdown, daily loss); ``approved``: whether the operator approved a promotion
    into live."""
    here, share = placement.stage, placement.share
    if evaluation.verdict is Verdict.DEMOTE:
        below = ladder.below(here) or here
        return _decision(placement, Action.DEMOTE, below, ladder.entry_share(below), evaluation)
    above = ladder.above(here)
    if above is None:
        return _ramp(placement, evaluation, ladder)
    if evaluation.verdict is not Verdict.PROMOTE:
        return _decision(placement, Action.HOLD, here, share, evaluation)
    if parity is None or not parity.passed:
        why = "the parity gate has not run" if parity is None else parity.describe()
        return _decision(placement, Action.BLOCKED, here, share, why)
    if above.is_live and not here.is_live:
        if not live_safety:
            why = "the live environment has no drawdown and daily-loss limits set"
            return _decision(placement, Action.BLOCKED, here, share, why)
        if ladder.live_approval == "operator" and not approved:
            why = f"proven for {above}: waiting for the operator's approval"
            return _decision(placement, Action.AWAIT_APPROVAL, here, share, why)
    return _decision(placement, Action.PROMOTE, above, ladder.entry_share(above), evaluation)


def _ramp(placement: Placement, evaluation: Evaluation, ladder: Ladder) -> Decision:
    """At the top: one more step of capital when the record keeps proving itself."""
    higher = [share for share in ladder.ramp if share > placement.share]
    if higher and not evaluation.failed:
        why = f"proven with {float(placement.share) * 100:g} % of the capital"
        return _decision(placement, Action.RAMP, placement.stage, higher[0], why)
    held: str | Evaluation = "trading the full capital" if not higher else evaluation
    return _decision(placement, Action.HOLD, placement.stage, placement.share, held)


def _decision(
    placement: Placement, action: Action, to: Stage, share: Decimal, why: str | Evaluation
) -> Decision:
    reason = why if isinstance(why, str) else why.reason()
    flatten = action is Action.DEMOTE and placement.stage.is_live
    return Decision(placement.play, action, placement.stage, to, share, reason, flatten)
