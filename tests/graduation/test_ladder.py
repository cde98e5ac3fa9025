"""The pipeline's rule book: what an evaluation decides at each place on the ladder."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradeplay.graduation import DEFAULT_CRITERIA, Check, Evaluation, Stage, Verdict
from tradeplay.graduation.ladder import Action, Ladder, Placement, decide
from tradeplay.graduation.parity import Divergence, ParityVerdict

D = Decimal
PASSED = ParityVerdict(None, bars=1_000, orders=40, fills=40)
FAILED = ParityVerdict(
    Divergence(17, datetime(2024, 1, 2, 3, 4, tzinfo=UTC), "orders", "buy 0.01", "buy 0.02"),
    bars=1_000,
    orders=40,
    fills=40,
)
OPERATOR = Ladder()
AUTOMATIC = Ladder(live_approval="automatic")
TOO_FEW = Check("trades", 4.0, 20.0, at_least=True)
DEEP = Check("max_drawdown_percent", 31.0, 25.0, at_least=False, limit=True)


def evaluation(stage: Stage, verdict: Verdict, *failed: Check) -> Evaluation:
    return Evaluation(play="ema", stage=stage, as_of_ms=0, verdict=verdict, checks=failed)


S, A, V = Stage, Action, Verdict


def at(stage: Stage, share: str = "1") -> Placement:
    return Placement("ema", stage, entered_ms=0, share=D(share))


@pytest.mark.parametrize(
    ("placement", "judged", "parity", "ladder", "expected"),
    [
        # Proven below live: promoted one stage, through the parity gate.
        (at(S.SHADOW), V.PROMOTE, PASSED, OPERATOR, (A.PROMOTE, S.DEMO, "1")),
        (at(S.SHADOW), V.PROMOTE, None, OPERATOR, (A.BLOCKED, S.SHADOW, "1")),
        (at(S.SHADOW), V.PROMOTE, FAILED, OPERATOR, (A.BLOCKED, S.SHADOW, "1")),
        # Into live: the operator approves unless the ladder says automatic; pilot share first.
        (at(S.DEMO), V.PROMOTE, PASSED, OPERATOR, (A.AWAIT_APPROVAL, S.DEMO, "1")),
        (at(S.DEMO), V.PROMOTE, PASSED, AUTOMATIC, (A.PROMOTE, S.LIVE_PILOT, "0.1")),
        (at(S.LIVE_PILOT, "0.1"), V.PROMOTE, PASSED, OPERATOR, (A.PROMOTE, S.LIVE, "0.25")),
        # Not proven: held where it is, whatever the parity.
        (at(S.DEMO), (V.HOLD, TOO_FEW), PASSED, AUTOMATIC, (A.HOLD, S.DEMO, "1")),
        # A breach demotes; out of a live stage the play is flattened first.
        (at(S.DEMO), (V.DEMOTE, DEEP), PASSED, OPERATOR, (A.DEMOTE, S.SHADOW, "1")),
        (at(S.LIVE_PILOT, "0.1"), (V.DEMOTE, DEEP), None, OPERATOR, (A.DEMOTE, S.DEMO, "1")),
        (at(S.LIVE, "0.5"), (V.DEMOTE, DEEP), None, OPERATOR, (A.DEMOTE, S.LIVE_PILOT, "0.1")),
        # At the top: the capital ramps a step per proven evaluation, up to all of it.
        (at(S.LIVE, "0.25"), V.HOLD, None, OPERATOR, (A.RAMP, S.LIVE, "0.5")),
        (at(S.LIVE, "0.5"), V.HOLD, None, OPERATOR, (A.RAMP, S.LIVE, "1")),
        (at(S.LIVE), V.HOLD, None, OPERATOR, (A.HOLD, S.LIVE, "1")),
        (at(S.LIVE, "0.25"), (V.HOLD, TOO_FEW), None, OPERATOR, (A.HOLD, S.LIVE, "0.25")),
    ],
)
def test_the_rule_book(
    placement: Placement,
    judged: Verdict | tuple[Verdict, Check],
    parity: ParityVerdict | None,
    ladder: Ladder,
    expected: tuple[Action, Stage, str],
) -> None:
    verdict, *failed = judged if isinstance(judged, tuple) else (judged,)
    judgement = evaluation(placement.stage, verdict, *failed)
    decision = decide(placement, judgement, parity, ladder, live_safety=True)
    action, stage, share = expected
    assert (decision.action, decision.to_stage, decision.share) == (action, stage, D(share))
    assert decision.from_stage is placement.stage
    assert decision.flatten is (action is A.DEMOTE and placement.stage.is_live)


def test_the_reasons_say_why() -> None:
    demo = Placement("ema", Stage.DEMO, entered_ms=0)
    proven = evaluation(Stage.DEMO, Verdict.PROMOTE)
    blocked = decide(demo, proven, FAILED, OPERATOR, live_safety=True)
    assert blocked.reason == (
        "parity failed: orders differ first on bar 17 (2024-01-02 03:04 UTC): the backtest "
        "gives buy 0.01, the stage did buy 0.02"
    )
    waiting = decide(demo, proven, PASSED, OPERATOR, live_safety=True)
    assert waiting.reason == "proven for live_pilot: waiting for the operator's approval"
    held = decide(
        demo, evaluation(Stage.DEMO, Verdict.HOLD, TOO_FEW), PASSED, OPERATOR, live_safety=True
    )
    assert held.reason == "trades 4 (needs ≥ 20)"


def test_an_approval_opens_live_but_never_without_the_live_safety_limits() -> None:
    demo = Placement("ema", Stage.DEMO, entered_ms=0)
    proven = evaluation(Stage.DEMO, Verdict.PROMOTE)
    approved = decide(demo, proven, PASSED, OPERATOR, live_safety=True, approved=True)
    assert (approved.action, approved.to_stage) == (Action.PROMOTE, Stage.LIVE_PILOT)
    unsafe = decide(demo, proven, PASSED, AUTOMATIC, live_safety=False, approved=True)
    assert unsafe.action is Action.BLOCKED
    assert unsafe.reason == "the live environment has no drawdown and daily-loss limits set"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"stages": ["shadow", "shadow"]}, "stages: expected at least two stages, each once"),
        ({"ramp": ["0.5", "0.25", "1"]}, "ramp: expected rising shares of the capital ending at 1"),
        ({"ramp": ["0.25", "0.5"]}, "ramp: expected rising shares of the capital ending at 1"),
        ({"criteria": {"demo": {"min_psr": 2}}}, "less than or equal to 1"),
        ({"criteria": {"demo": {"min_sharp": 1}}}, "Extra inputs are not permitted"),
        ({"pilot_share": "1.5"}, "less than or equal to 1"),
        ({"stages": ["shadow", "moon"]}, "Input should be 'backtest', 'shadow'"),
    ],
)
def test_bad_ladders_are_refused_with_the_reason(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Ladder.model_validate(settings)


def test_criteria_given_change_the_defaults_field_by_field() -> None:
    """A deployment names only what it changes; ``None`` switches a default off."""
    ladder = Ladder.model_validate({"criteria": {"demo": {"min_days": 3, "min_psr": None}}})
    demo = ladder.criteria[Stage.DEMO]
    assert (demo.min_days, demo.min_psr) == (3, None)
    assert demo.min_trades == DEFAULT_CRITERIA[Stage.DEMO].min_trades
    assert ladder.criteria[Stage.SHADOW] == DEFAULT_CRITERIA[Stage.SHADOW]
