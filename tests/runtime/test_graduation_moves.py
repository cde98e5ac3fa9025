"""A graduating play changes stage only flat: when the flatten where it trades fails, the move
is held (nothing is left behind in an environment no longer watched) until the operator acts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.emulator.conftest import wave_candles
from tests.runtime.test_deploy_file import ENV, graduating
from tradeplay.features.compute import bar_matrix
from tradeplay.runtime.deployment import read_deployment
from tradeplay.runtime.graduating import Graduation
from tradeplay.runtime.pairs import PairKey, pairs_of
from tradeplay.store import Database, default_url

SHADOW, DEMO = PairKey("shadow", "ema"), PairKey("demo", "ema")


class Hands:
    """The supervisor's side, recorded; its flatten ends as ``flat`` says."""

    def __init__(self, *, flat: bool) -> None:
        self.flat = flat
        self.calls: list[tuple[str, PairKey]] = []

    def park(self, key: PairKey, reason: str) -> tuple[str, bool]:
        self.calls.append(("park", key))
        return ("1 orders cancelled, closing 0.1 BTCUSDT" if self.flat else "flatten failed"), (
            self.flat
        )

    def allot(self, key: PairKey, capital: Decimal) -> None:
        self.calls.append(("allot", key))

    def activate(self, key: PairKey, reason: str) -> None:
        self.calls.append(("activate", key))


@pytest.mark.parametrize("flat", [True, False])
def test_a_move_goes_on_only_once_the_old_stage_is_flat(tmp_path: Path, flat: bool) -> None:
    text = graduating("", "{stages: [shadow, demo]}")
    deployment = read_deployment(text, tmp_path / "deploy.yaml", ENV)
    database = Database.open(default_url(tmp_path / "state"))
    try:
        hands = Hands(flat=flat)
        graduation = Graduation(deployment, database, pairs_of(deployment), hands)
        graduation.place()
        history = bar_matrix(wave_candles(300))
        graduation.warmed(SHADOW, history)
        graduation.warmed(DEMO, history)
        graduation.pipeline.promote("ema", "the operator's call")
        graduation.follow()
        if flat:
            assert hands.calls == [("park", SHADOW), ("allot", DEMO), ("activate", DEMO)]
            assert graduation.parked(DEMO) is None
        else:
            assert hands.calls == [("park", SHADOW)]  # the demo pair is not started
            graduation.follow()  # nor later, until the operator flattens and moves the play
            assert ("activate", DEMO) not in hands.calls
            assert graduation.parked(DEMO) == "in the pipeline at demo, parked here"
    finally:
        database.close()
