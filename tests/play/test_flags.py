"""Flag outputs (1 or 0) read as conditions, exactly as if compared with 1."""

from __future__ import annotations

import numpy as np
import pytest

from tradeplay.play import CompiledPlay, PlayFileError, compile_play, signals

PLAY = """\
schema_version: 1
symbol: BTCUSDT
timeframe: 1h
features:
  bos: {{kind: bos}}
  fast: {{kind: ema, period: 5}}
long:
  entry: {entry}
  exit: close < 0
"""


def _compiled(entry: str) -> CompiledPlay:
    return compile_play(PLAY.format(entry=entry), "flags.yaml")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("bos.up", "(bos.up == 1)"),
        ("bos.up and not bos.choch_up", "((bos.up == 1) and (not (bos.choch_up == 1)))"),
        ("bos.up[1] or bos.down", "((bos.up[1] == 1) or (bos.down == 1))"),
    ],
)
def test_a_flag_where_a_condition_is_expected_means_flag_equals_one(
    written: str, canonical: str
) -> None:
    assert str(_compiled(written).rules["long.entry"]) == canonical


def test_a_flag_evaluates_like_the_comparison_and_nan_is_false() -> None:
    compiled = _compiled("bos.up")
    up = np.array([np.nan, 0.0, 1.0, 0.0, 1.0])
    columns = {name: np.zeros(5) for name in ("open", "high", "low", "close", "volume")}
    columns |= {f"bos.{out}": up for out in ("up", "down", "choch_up", "choch_down", "level")}
    columns |= {"bos.bias": up, "fast": up, "fast.value": up}
    assert signals(compiled, columns)["long.entry"].tolist() == [False, False, True, False, True]


@pytest.mark.parametrize("entry", ["fast", "bos.level", "fast and bos.up"])
def test_a_number_that_is_not_a_flag_still_needs_a_comparison(entry: str) -> None:
    with pytest.raises(PlayFileError, match="condition"):
        _compiled(entry)


def test_flags_still_work_as_numbers() -> None:
    assert (
        str(_compiled("bos.up + bos.down > 0").rules["long.entry"]) == "((bos.up + bos.down) > 0)"
    )
