"""A graduating play changes stage only flat: when the flatten where it trades fails, the move
is held (nothing is left behind in an environment no longer watched), across restarts too,
until that pair is flat; then it goes on by itself."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.emulator.conftest import wave_candles
from tests.runtime.test_deploy_file import ENV, graduating
from tradeplay.domain.errors import InputError
from tradeplay.features.compute import bar_matrix
from tradeplay.runtime.deployment import read_deployment
from tradeplay.runtime.graduating import Graduation
from tradeplay.runtime.pairs import PairKey, pairs_of
from tradeplay.runtime.runner import BarStep
from tradeplay.runtime.worker import Flatten
from tradeplay.store import Database, default_url

SHADOW, DEMO = PairKey("shadow", "ema"), PairKey("demo", "ema")


class Hands:
    """The supervisor's side, recorded: the shadow pair's flatten ends as ``flattens`` says and
    it reads flat as ``flat_now`` says; every other pair flattens and reads flat."""

    def __init__(self, *, flattens: bool) -> None:
        self.flattens = flattens
        self.flat_now = flattens
        self.calls: list[tuple[str, PairKey]] = []

    def park(self, key: PairKey, reason: str) -> Flatten:
        self.calls.append(("park", key))
        if self.flattens or key != SHADOW:
            return Flatten("1 orders cancelled, closing 0.1 BTCUSDT", flat=True)
        return Flatten("flatten failed: the venue refused", flat=False)

    def flat(self, key: PairKey) -> bool:
        self.calls.append(("flat?", key))
        return self.flat_now or key != SHADOW

    def allot(self, key: PairKey, capital: Decimal) -> None:
        self.calls.append(("allot", key))

    def activate(self, key: PairKey, reason: str) -> None:
        self.calls.append(("activate", key))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(default_url(tmp_path / "state"))
    yield database
    database.close()


def running(tmp_path: Path, database: Database, hands: Hands) -> Graduation:
    """A deployment's graduation started (or restarted) on ``database``, its pairs warm."""
    text = graduating("", "{stages: [shadow, demo]}")
    deployment = read_deployment(text, tmp_path / "deploy.yaml", ENV)
    graduation = Graduation(deployment, database, pairs_of(deployment), hands)
    graduation.place()
    history = bar_matrix(wave_candles(300))
    graduation.warmed(SHADOW, history)
    graduation.warmed(DEMO, history)
    return graduation


def standing(database: Database) -> tuple[str, str | None]:
    """Where the play stands, as stored: its stage, and where its move is held (if it is)."""
    stored = database.graduations.placement("ema")
    assert stored is not None
    return stored.stage, stored.held_in


def held(tmp_path: Path, database: Database, hands: Hands) -> Graduation:
    """A play promoted from shadow to demo whose flatten in shadow failed."""
    graduation = running(tmp_path, database, hands)
    graduation.clock.ms += 3_600_000  # an hour of bars later
    graduation.pipeline.promote("ema", "the operator's call")
    graduation.follow()
    assert hands.calls == [("park", SHADOW)]  # the demo pair is not started
    hands.calls.clear()
    return graduation


def test_a_move_goes_on_once_the_old_stage_is_flat(tmp_path: Path, database: Database) -> None:
    hands = Hands(flattens=True)
    graduation = running(tmp_path, database, hands)
    graduation.pipeline.promote("ema", "the operator's call")
    graduation.follow()
    assert hands.calls == [("park", SHADOW), ("flat?", SHADOW), ("allot", DEMO), ("activate", DEMO)]
    assert graduation.parked(DEMO) is None
    assert graduation.parked(SHADOW) == "in the pipeline at demo, parked here"
    assert standing(database) == ("demo", None)


def test_a_failed_flatten_holds_the_move_and_asks_again_without_flattening_again(
    tmp_path: Path, database: Database
) -> None:
    hands = Hands(flattens=False)
    graduation = held(tmp_path, database, hands)
    assert standing(database) == ("demo", "shadow")
    assert graduation.parked(DEMO) == (
        "in the pipeline at demo, waiting for its pair in shadow to be flat"
    )
    assert graduation.parked(SHADOW) == (
        "not flat here when it moved to demo: the move goes on once it is (if its close "
        "failed: close it at the venue, or `tradeplay panic shadow`, which halts every play "
        "there)"
    )
    graduation.follow()
    graduation.follow()
    # Asked, not flattened again: a panic per poll would send a close per second.
    assert hands.calls == [("flat?", SHADOW), ("flat?", SHADOW)]
    assert graduation.judge_due() == []  # no stage trades: nothing to judge


@pytest.mark.parametrize("restarted", [False, True])
def test_a_held_move_goes_on_by_itself_once_the_operator_flattened_the_old_pair(
    tmp_path: Path, database: Database, restarted: bool
) -> None:
    hands = Hands(flattens=False)
    graduation = held(tmp_path, database, hands)
    if restarted:  # the hold is stored: the new stage does not start beside the old position
        hands = Hands(flattens=False)
        graduation = running(tmp_path, database, hands)
        assert graduation.parked(DEMO) == (
            "in the pipeline at demo, waiting for its pair in shadow to be flat"
        )
        assert graduation.parked(SHADOW).startswith("not flat here when it moved to demo")
        graduation.follow()  # at start: flat everywhere but in its stage, tried again
        assert hands.calls == [("park", SHADOW)]
        hands.calls.clear()
    hands.flat_now = hands.flattens = True  # the operator's panic closed the shadow position
    graduation.follow()
    assert hands.calls == [
        ("flat?", SHADOW),
        ("park", SHADOW),
        ("flat?", SHADOW),
        ("allot", DEMO),
        ("activate", DEMO),
    ]
    assert graduation.parked(DEMO) is None
    assert standing(database) == ("demo", None)


def test_an_operator_move_of_a_held_play_flattens_the_held_pair_first(
    tmp_path: Path, database: Database
) -> None:
    hands = Hands(flattens=False)
    graduation = held(tmp_path, database, hands)
    graduation.pipeline.demote("ema", "back to shadow")
    assert standing(database) == ("shadow", "shadow")
    graduation.follow()  # still failing: still held, in its new stage
    assert hands.calls == [("park", SHADOW)]
    hands.calls.clear()
    hands.flat_now = hands.flattens = True
    graduation.pipeline.promote("ema", "forward again")
    graduation.follow()
    assert hands.calls == [("park", SHADOW), ("flat?", SHADOW), ("allot", DEMO), ("activate", DEMO)]
    assert standing(database) == ("demo", None)


def test_the_operator_releases_a_play_whose_held_pair_cannot_answer(
    tmp_path: Path, database: Database
) -> None:
    """Its shadow environment gone, the held pair never answers flat; the operator says it is
    (closed at the venue), and a running deployment starts the new stage without a flatten."""
    hands = Hands(flattens=False)
    graduation = held(tmp_path, database, hands)
    with pytest.raises(InputError, match="say why with --reason"):
        graduation.pipeline.operator_release("ema", " ")
    released = graduation.pipeline.operator_release("ema", "closed by hand at the venue")
    assert (released.stage, released.held_in) == ("demo", None)
    graduation.follow()
    assert hands.calls == [("allot", DEMO), ("activate", DEMO)]
    assert graduation.parked(DEMO) is None
    last = database.graduations.history("ema")[-1]
    assert (last.verdict, last.from_stage, last.to_stage) == ("release", "demo", "demo")
    assert last.reason == "operator: closed by hand at the venue (flat in shadow)"
    with pytest.raises(InputError, match="ema is not held: it trades in demo already"):
        graduation.pipeline.operator_release("ema", "again")


def test_a_move_decided_while_nothing_ran_flattens_the_old_stage_at_start(
    tmp_path: Path, database: Database
) -> None:
    """Promoted by the operator while the deployment was down (or the process died while it
    flattened): at the next start nothing says shadow is flat, so it is parked flat first."""
    graduation = running(tmp_path, database, Hands(flattens=True))
    graduation.clock.ms += 3_600_000  # an hour of bars later
    graduation.pipeline.promote("ema", "while it is down")  # no follow(): the process stops
    hands = Hands(flattens=True)
    restarted = running(tmp_path, database, hands)
    assert restarted.parked(DEMO) == "in the pipeline at demo: starts once its other pairs are flat"
    assert hands.calls == []
    restarted.follow()  # the supervisor's start ends with it
    assert hands.calls == [
        ("park", SHADOW),
        ("flat?", SHADOW),
        ("park", DEMO),  # its stage never traded: it starts flat too
        ("flat?", DEMO),
        ("allot", DEMO),
        ("activate", DEMO),
    ]
    assert restarted.parked(DEMO) is None


def test_a_close_still_on_its_way_holds_the_move_until_the_pair_reads_flat(
    tmp_path: Path, database: Database
) -> None:
    """The flatten sent its close (a paper account fills it at the next bar): the new stage
    waits until the old pair reads flat, then starts without a second close."""
    hands = Hands(flattens=True)
    hands.flat_now = False
    graduation = running(tmp_path, database, hands)
    graduation.pipeline.promote("ema", "the operator's call")
    graduation.follow()
    assert hands.calls == [("park", SHADOW), ("flat?", SHADOW)]
    assert standing(database) == ("demo", "shadow")  # a restart now would wait too
    hands.calls.clear()
    hands.flat_now = True  # the next bar filled the close
    graduation.follow()
    assert hands.calls == [
        ("flat?", SHADOW),
        ("park", SHADOW),
        ("flat?", SHADOW),
        ("allot", DEMO),
        ("activate", DEMO),
    ]


def test_a_restart_inside_a_stage_leaves_its_pair_trading_what_it_holds(
    tmp_path: Path, database: Database
) -> None:
    """Demo traded (its tape has bars) when the process stopped: at the next start only the
    other pairs are parked flat; demo's own position is its engine's to manage."""
    graduation = running(tmp_path, database, Hands(flattens=True))
    graduation.clock.ms += 3_600_000
    graduation.pipeline.promote("ema", "the operator's call")
    graduation.follow()
    step = bar_matrix(wave_candles(301))[-1]
    graduation.stepped(DEMO, BarStep(300, int(step[0]), step, {}, True, 0, 0, 0))
    hands = Hands(flattens=True)
    restarted = running(tmp_path, database, hands)
    restarted.follow()
    assert hands.calls == [("park", SHADOW), ("flat?", SHADOW), ("allot", DEMO), ("activate", DEMO)]


def test_an_operator_release_outlives_a_restart(tmp_path: Path, database: Database) -> None:
    hands = Hands(flattens=False)
    graduation = held(tmp_path, database, hands)
    graduation.pipeline.operator_release("ema", "closed by hand at the venue")
    hands = Hands(flattens=False)  # shadow still cannot answer
    restarted = running(tmp_path, database, hands)
    assert restarted.parked(SHADOW) == "in the pipeline at demo, parked here"
    restarted.follow()  # shadow is not asked again: the operator vouched for it
    assert hands.calls == [("park", DEMO), ("flat?", DEMO), ("allot", DEMO), ("activate", DEMO)]
