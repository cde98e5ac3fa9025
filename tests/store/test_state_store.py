"""Engine state snapshots through the StateStore port: the database and the memory store agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.store.builders import T0
from tests.store.conftest import database_of
from tradeplay.domain.errors import InputError
from tradeplay.ports import StateStore
from tradeplay.store import MemoryStateStore


class FixedClock:
    def now(self) -> datetime:
        return T0


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], StateStore]]:
    if request.param == "memory":
        stores: dict[str, MemoryStateStore] = {}
        yield lambda environment: stores.setdefault(environment, MemoryStateStore())
        return
    with database_of(request.param, request, tmp_path) as database:
        yield lambda environment: database.state_store(environment, FixedClock())


def test_both_stores_implement_the_port(make_store: Callable[[str], StateStore]) -> None:
    assert isinstance(make_store("demo"), StateStore)


def test_a_saved_state_loads_back_as_json_would_give_it(
    make_store: Callable[[str], StateStore],
) -> None:
    store = make_store("demo")
    state = {"bar": 1234, "equity_peak": "1050.25", "open": ["tp-1"], "pair": (1, 2.5)}
    store.save("trend-btc", state)
    assert store.load("trend-btc") == {**state, "pair": [1, 2.5]}
    assert store.load("other") is None


def test_saving_again_replaces_the_state(make_store: Callable[[str], StateStore]) -> None:
    store = make_store("demo")
    store.save("trend-btc", {"bar": 1})
    store.save("trend-btc", {"bar": 2})
    assert store.load("trend-btc") == {"bar": 2}


def test_environments_keep_their_own_states(make_store: Callable[[str], StateStore]) -> None:
    make_store("demo").save("trend-btc", {"bar": 1})
    make_store("live").save("trend-btc", {"bar": 9})
    assert make_store("demo").load("trend-btc") == {"bar": 1}


def test_a_loaded_state_is_a_copy(make_store: Callable[[str], StateStore]) -> None:
    store = make_store("demo")
    store.save("k", {"open": []})
    loaded = store.load("k")
    assert loaded is not None
    loaded["open"].append("changed")
    assert store.load("k") == {"open": []}


def test_a_state_that_is_not_json_is_refused(make_store: Callable[[str], StateStore]) -> None:
    with pytest.raises(InputError, match=r"engine state 'k'.*money as text"):
        make_store("demo").save("k", {"equity": Decimal("1.5")})
