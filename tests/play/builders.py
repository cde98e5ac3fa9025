"""Small play files for tests: a valid base play and ways to change it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tradeplay.play import CompiledPlay, PlayFileError, compile_play

PLAYS = Path(__file__).resolve().parents[2] / "plays"
EXAMPLES = sorted(PLAYS.glob("*.yaml"))

BASE: dict[str, Any] = {
    "schema_version": 1,
    "name": "base",
    "symbol": "BTCUSDT",
    "timeframe": "1h",
    "features": {
        "fast": {"kind": "ema", "period": 12},
        "slow": {"kind": "ema", "period": 26},
    },
    "long": {"entry": "crosses_above(fast, slow)", "exit": "crosses_below(fast, slow)"},
}

DELETE = object()
"""A change that removes the field."""


def play_data(**changes: Any) -> dict[str, Any]:
    """The base play with top-level fields replaced (or removed with :data:`DELETE`)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is DELETE:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def play_text(**changes: Any) -> str:
    return yaml.safe_dump(play_data(**changes), sort_keys=False, allow_unicode=True)


def compiled(**changes: Any) -> CompiledPlay:
    return compile_play(play_text(**changes), "test.yaml")


def problems(text: str) -> list[str]:
    """The messages of every problem, each as 'line N: path: message' (no file name)."""
    with pytest.raises(PlayFileError) as caught:
        compile_play(text, "test.yaml")
    return [
        problem.render("test.yaml").removeprefix("test.yaml, ").removeprefix("test.yaml: ")
        for problem in caught.value.problems
    ]


def problems_with(**changes: Any) -> list[str]:
    return problems(play_text(**changes))
