"""Graduation decisions: the audit trail issue 8 writes, with its numbers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.store.builders import at
from tradeplay.domain.errors import InputError
from tradeplay.store import Database, GraduationDecision, StoredPlacement
from tradeplay.store.graduation import StageBar


def _decision(seconds: float = 0, verdict: str = "promote") -> GraduationDecision:
    return GraduationDecision(
        play="trend",
        from_stage="demo",
        to_stage="live",
        verdict=verdict,
        decided_at=at(seconds),
        metrics={"days": 31, "trades": 57, "sharpe": 1.73, "max_drawdown": "0.081"},
        thresholds={"days": 30, "trades": 50, "sharpe": 1.0, "max_drawdown": "0.15"},
    )


def test_decisions_are_kept_with_their_metrics_and_thresholds(database: Database) -> None:
    assert database.graduations.record(_decision(0, "hold"))
    assert database.graduations.record(_decision(86400))
    assert not database.graduations.record(_decision(86400))
    assert database.graduations.history("trend") == [_decision(0, "hold"), _decision(86400)]
    assert database.graduations.history("other") == []
    assert len(database.graduations.history()) == 2


def test_metrics_that_are_not_json_are_refused_with_a_reason(database: Database) -> None:
    bad = GraduationDecision(
        play="trend",
        from_stage="demo",
        to_stage="live",
        verdict="promote",
        decided_at=at(0),
        metrics={"return": Decimal("0.12")},
    )
    with pytest.raises(InputError, match="graduation decision of trend: metrics must hold only"):
        database.graduations.record(bad)


def test_a_decision_keeps_its_reason_and_the_share_it_leaves_the_play(database: Database) -> None:
    ramp = GraduationDecision(
        play="trend",
        from_stage="live",
        to_stage="live",
        verdict="ramp",
        decided_at=at(0),
        reason="proven with 25 % of the capital",
        share=Decimal("0.50"),
    )
    database.graduations.record(ramp)
    assert database.graduations.history("trend") == [ramp]


def test_where_each_play_stands_is_kept_and_replaced(database: Database) -> None:
    assert database.graduations.placement("trend") is None
    first = StoredPlacement(
        play="trend", stage="shadow", entered_at=at(0), share=Decimal(1), updated_at=at(0)
    )
    database.graduations.place(first)
    live = StoredPlacement(
        play="trend",
        stage="live_pilot",
        entered_at=at(3600),
        share=Decimal("0.10"),
        approved=True,
        updated_at=at(3600),
    )
    database.graduations.place(live)
    other = StoredPlacement(
        play="rsi", stage="demo", entered_at=at(60), share=Decimal(1), updated_at=at(60)
    )
    database.graduations.place(other)
    assert database.graduations.placement("trend") == live
    assert database.graduations.placements() == [other, live]
    held = replace(live, held_in="demo", updated_at=at(3700))  # its flatten in demo failed
    database.graduations.place(held)
    assert database.graduations.placement("trend") == held
    database.graduations.place(replace(held, held_in=None))
    assert database.graduations.placement("trend") == replace(held, held_in=None)


def test_a_warm_up_bar_is_never_a_traded_one() -> None:
    with pytest.raises(ValueError, match="warm-up bar"):
        StageBar((60_000.0, 1.0, 2.0, 0.5, 1.5, 10.0), None)


def test_a_stage_bar_seen_twice_is_kept_once_and_a_window_ends_where_asked(
    database: Database,
) -> None:
    entered = at(0)
    warm = StageBar((60_000.0, 1.0, 2.0, 0.5, 1.5, 10.0), None, traded=False)
    traded = [
        StageBar((120_000.0, 1.5, 2.0, 1.0, 1.8, 12.0), ("long_entry",)),
        StageBar((180_000.0, 1.8, 1.9, 1.1, 1.2, 9.0), ()),
        # Taken while the pair was paused: its rule fired, its engine did not run.
        StageBar((240_000.0, 1.2, 1.3, 0.9, 1.0, 7.0), ("long_exit",), traded=False),
    ]
    database.graduations.add_bars("ema", entered, [warm, *traded])
    database.graduations.add_bars("ema", entered, traded[:1])  # again, as after a restart
    assert database.graduations.bars("ema", entered) == [warm, *traded]
    assert [bar.traded for bar in database.graduations.bars("ema", entered)] == [
        False, True, True, False,
    ]  # fmt: skip
    assert database.graduations.bars("ema", entered, until_ms=180_000) == [warm, traded[0]]
    assert database.graduations.bars("ema", at(1)) == []  # another stage's tape
    assert database.graduations.has_bars("ema", entered)
    assert not database.graduations.has_bars("ema", at(1))


def test_a_hold_is_stored_only_on_the_placement_it_was_meant_for(database: Database) -> None:
    """The runtime holds the move it carried out; a move stored meanwhile (the operator's
    command, from another process) is not overwritten."""
    shadow = StoredPlacement(
        play="trend", stage="shadow", entered_at=at(0), share=Decimal(1), updated_at=at(0)
    )
    database.graduations.place(shadow)
    assert database.graduations.set_held("trend", at(0), "shadow", at(60))
    assert database.graduations.placement("trend") == replace(
        shadow, held_in="shadow", updated_at=at(60)
    )
    demo = replace(shadow, stage="demo", entered_at=at(120), updated_at=at(120), held_in=None)
    database.graduations.place(demo)
    assert not database.graduations.set_held("trend", at(0), None, at(180))  # too late
    assert database.graduations.placement("trend") == demo
