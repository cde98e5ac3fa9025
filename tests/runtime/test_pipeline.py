"""The pipeline's bookkeeping: judgements move plays and leave an audit trail reproducing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradeplay.domain.errors import InputError
from tradeplay.graduation import Criteria, Ladder, Stage, StageRecord, evaluate
from tradeplay.graduation.ladder import Action
from tradeplay.graduation.parity import ParityVerdict
from tradeplay.runtime.pipeline import Pipeline
from tradeplay.store import Database, default_url

HOUR_MS = 3_600_000
START = datetime(2024, 3, 1, tzinfo=UTC)
PASSED = ParityVerdict(None, bars=500, orders=20, fills=20)
LADDER = Ladder(
    stages=(Stage.SHADOW, Stage.DEMO, Stage.LIVE_PILOT, Stage.LIVE),
    criteria={
        Stage.SHADOW: Criteria(min_days=2, min_trades=4, min_return_percent=0),
        Stage.DEMO: Criteria(min_days=2, min_trades=4, min_psr=0.6, max_drawdown_percent=10),
        Stage.LIVE_PILOT: Criteria(
            min_days=2, min_trades=4, min_return_percent=0, max_drawdown_percent=5
        ),
        Stage.LIVE: Criteria(min_days=1, max_drawdown_percent=5),
    },
    live_approval="operator",
)


class Clock:
    def __init__(self) -> None:
        self.time = START

    def now(self) -> datetime:
        return self.time


@pytest.fixture
def pipeline(tmp_path: Path) -> tuple[Pipeline, Clock, Database]:
    database = Database.open(default_url(tmp_path))
    clock = Clock()
    return Pipeline(database.graduations, LADDER, clock), clock, database


def record(stage: Stage, clock: Clock, hourly: list[float], trades: int) -> StageRecord:
    """Two days of hourly equity ending now, along ``hourly`` returns."""
    hours = 48
    end_ms = int(clock.now().timestamp() * 1000)
    steps = np.resize(np.array(hourly), hours)
    equity = 10_000 * np.cumprod(np.concatenate(([1.0], 1.0 + steps)))
    return StageRecord(
        play="ema",
        stage=stage,
        entered_ms=end_ms - hours * HOUR_MS,
        as_of_ms=end_ms,
        equity_ms=end_ms - HOUR_MS * np.arange(hours, -1, -1, dtype=np.int64),
        equity=equity,
        trade_pnls=[Decimal(25), Decimal(-10)] * (trades // 2),
    )


WINNING = [0.002, -0.001, 0.0015, -0.0005]
CRASH = [0.0] * 40 + [-0.01] * 8
"""Quiet, then eight 1 % falls: a drawdown past the live pilot's limit."""


def test_a_proven_play_climbs_and_waits_for_the_operator_at_live(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    line, clock, _ = pipeline
    line.enter("ema")
    clock.time += timedelta(days=2)
    moved = line.judge(record(Stage.SHADOW, clock, WINNING, 6), PASSED, live_safety=True)
    assert (moved.action, moved.to_stage) == (Action.PROMOTE, Stage.DEMO)
    clock.time += timedelta(days=2)
    waiting = line.judge(record(Stage.DEMO, clock, WINNING, 6), PASSED, live_safety=True)
    assert waiting.action is Action.AWAIT_APPROVAL
    assert line.placement("ema").stage is Stage.DEMO
    approved = line.promote("ema", "looked at the demo trades")
    assert (approved.to_stage, approved.share) == (Stage.LIVE_PILOT, Decimal("0.1"))
    standing = line.status()[0]
    assert (standing.placement.stage, standing.placement.share) == ("live_pilot", Decimal("0.1"))
    assert standing.last is not None
    assert standing.last.reason == "operator: looked at the demo trades"
    assert [d.verdict for d in line.history("ema")] == ["promote", "awaiting_approval", "promote"]


def test_a_losing_play_stays_and_a_live_breach_demotes_and_flattens(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    line, clock, _ = pipeline
    line.enter("ema", Stage.LIVE_PILOT)
    clock.time += timedelta(days=2)
    losing = [-0.002, 0.001, -0.0015, 0.0005]
    held = line.judge(record(Stage.LIVE_PILOT, clock, losing, 6), PASSED, live_safety=True)
    assert held.action is Action.HOLD
    demoted = line.judge(record(Stage.LIVE_PILOT, clock, CRASH, 6), PASSED, live_safety=True)
    assert (demoted.action, demoted.to_stage, demoted.flatten) == (Action.DEMOTE, Stage.DEMO, True)
    assert line.placement("ema").stage is Stage.DEMO


def test_after_a_live_breach_only_the_operator_sends_a_play_back_to_live(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    line, clock, _ = pipeline
    automatic = Ladder.model_validate({**LADDER.model_dump(), "live_approval": "automatic"})
    line.ladder = automatic
    line.enter("ema", Stage.LIVE_PILOT)
    clock.time += timedelta(days=2)
    line.judge(record(Stage.LIVE_PILOT, clock, CRASH, 6), PASSED, live_safety=True)
    clock.time += timedelta(days=2)
    again = line.judge(record(Stage.DEMO, clock, WINNING, 6), PASSED, live_safety=True)
    assert again.action is Action.AWAIT_APPROVAL
    assert line.promote("ema", "the breach was a venue outage").to_stage is Stage.LIVE_PILOT


def test_a_ramp_starts_a_new_record_at_the_new_share(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    line, clock, _ = pipeline
    line.enter("ema", Stage.LIVE)
    clock.time += timedelta(days=2)
    ramp = line.judge(record(Stage.LIVE, clock, WINNING, 10), PASSED, live_safety=True)
    assert (ramp.action, ramp.share) == (Action.RAMP, Decimal("0.5"))
    stored = line.stored("ema")
    assert (stored.entered_at, stored.share) == (clock.now(), Decimal("0.5"))


def test_the_audit_trail_reproduces_every_verdict(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    """Each stored decision holds the metrics and thresholds it was taken on; evaluating the
    same record again under the same criteria gives the same verdict and the same numbers."""
    line, clock, database = pipeline
    line.enter("ema")
    clock.time += timedelta(days=2)
    records = []
    for stage in (Stage.SHADOW, Stage.DEMO):
        records.append(record(stage, clock, WINNING, 6))
        line.judge(records[-1], PASSED, live_safety=True)
        clock.time += timedelta(days=2)
    stored = database.graduations.history("ema")
    assert len(stored) == 2
    for decision, again in zip(stored, records, strict=True):
        evaluation = evaluate(again, LADDER.criteria[again.stage])
        window = {"parity", "entered_at", "as_of_ms", "stage_share", "live_approval"}
        assert {k: v for k, v in decision.metrics.items() if k not in window} == evaluation.metrics
        assert decision.metrics["as_of_ms"] == again.as_of_ms
        assert decision.thresholds == evaluation.thresholds()
        assert decision.metrics["parity"] == PASSED.describe()


def test_the_operator_moves_a_play_with_a_reason_only(
    pipeline: tuple[Pipeline, Clock, Database],
) -> None:
    line, _, _ = pipeline
    line.enter("ema")
    with pytest.raises(InputError, match="say why with --reason"):
        line.demote("ema", " ")
    with pytest.raises(InputError, match="already at the bottom of the ladder"):
        line.demote("ema", "no")
    with pytest.raises(InputError, match="no play called 'rsi' is in the pipeline"):
        line.promote("rsi", "why not")
    with pytest.raises(InputError, match="stands in shadow, not demo"):
        line.judge(record(Stage.DEMO, Clock(), WINNING, 6), PASSED, live_safety=True)
