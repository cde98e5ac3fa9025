"""Deployments and their lifecycle: checked transitions, stored state that survives restarts."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from tests.store.builders import at
from tradeplay.domain.errors import InvalidTransitionError
from tradeplay.store import LIFECYCLE, Database, DeploymentState, UnknownDeploymentError

S = DeploymentState


def test_a_new_deployment_starts_stopped(database: Database) -> None:
    registered = database.deployments.register("demo", "trend-btc", "trend", Decimal("1000"), at(0))
    assert registered.state is S.STOPPED
    assert registered.capital == Decimal("1000")
    assert database.deployments.get("demo", "trend-btc") == registered


def test_the_whole_lifecycle_is_stored(database: Database) -> None:
    database.deployments.register("demo", "trend-btc", "trend", None, at(0))
    path = [S.STARTING, S.RUNNING, S.PAUSED, S.RUNNING, S.STOPPING, S.STOPPED]
    for second, state in enumerate(path, start=1):
        moved = database.deployments.move("demo", "trend-btc", state, at(second))
        assert moved.state is state
        assert database.deployments.get("demo", "trend-btc") == moved


def test_a_move_the_lifecycle_does_not_allow_is_refused(database: Database) -> None:
    database.deployments.register("demo", "trend-btc", "trend", None, at(0))
    with pytest.raises(InvalidTransitionError, match="cannot go from stopped to running"):
        database.deployments.move("demo", "trend-btc", S.RUNNING, at(1))
    stored = database.deployments.get("demo", "trend-btc")
    assert stored is not None
    assert stored.state is S.STOPPED


def test_an_emergency_survives_a_restart_until_an_operator_resumes(database: Database) -> None:
    database.deployments.register("live", "trend-btc", "trend", Decimal(500), at(0))
    for second, state in enumerate([S.STARTING, S.RUNNING], start=1):
        database.deployments.move("live", "trend-btc", state, at(second))
    database.deployments.move("live", "trend-btc", S.EMERGENCY, at(3), reason="drawdown 21%")
    # The restarted runtime registers its deployments again: the emergency must stay.
    again = database.deployments.register("live", "trend-btc", "trend", Decimal(400), at(4))
    assert (again.state, again.reason, again.capital) == (S.EMERGENCY, "drawdown 21%", 400)
    assert S.EMERGENCY not in LIFECYCLE[S.EMERGENCY]
    resumed = database.deployments.move("live", "trend-btc", S.RUNNING, at(5), reason="operator")
    assert resumed.state is S.RUNNING


def test_moving_an_unknown_deployment_names_it(database: Database) -> None:
    with pytest.raises(UnknownDeploymentError, match="'nope' in environment demo"):
        database.deployments.move("demo", "nope", S.STARTING, at(0))


def test_deployments_are_listed_by_environment_and_name(database: Database) -> None:
    for environment, name in (("live", "b"), ("demo", "b"), ("demo", "a")):
        database.deployments.register(environment, name, "trend", None, at(0))
    assert [(d.environment, d.name) for d in database.deployments.all()] == [
        ("demo", "a"),
        ("demo", "b"),
        ("live", "b"),
    ]
    assert [d.name for d in database.deployments.all("live")] == ["b"]


def test_racing_movers_cannot_both_leave_the_same_state(database: Database) -> None:
    """Eight threads try running → paused at once: the check and the write are one step."""
    database.deployments.register("demo", "trend-btc", "trend", None, at(0))
    database.deployments.move("demo", "trend-btc", S.STARTING, at(1))
    database.deployments.move("demo", "trend-btc", S.RUNNING, at(2))
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def pause() -> None:
        start.wait()
        try:
            database.deployments.move("demo", "trend-btc", S.PAUSED, at(3))
            outcomes.append("moved")
        except InvalidTransitionError:
            outcomes.append("refused")

    threads = [threading.Thread(target=pause) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["moved"] + ["refused"] * 7


def test_a_panic_request_waits_until_the_deployment_applies_it(database: Database) -> None:
    first = database.deployments.request_panic("demo", at(0))
    database.deployments.request_panic("live", at(0))
    second = database.deployments.request_panic("demo", at(1))
    assert [r.id for r in database.deployments.pending_panics("demo")] == [first.id, second.id]
    database.deployments.panic_applied(first, at(2), "ema@demo: 1 orders cancelled, no position")
    (pending,) = database.deployments.pending_panics("demo")
    assert pending == second
    applied = database.deployments.panic(first.id)
    assert applied is not None
    assert (applied.applied_at, applied.detail) == (
        at(2),
        "ema@demo: 1 orders cancelled, no position",
    )
    assert [r.id for r in database.deployments.panics("demo")] == [first.id, second.id]
    assert database.deployments.panic(10**9) is None


def test_a_stopped_deployment_can_be_put_in_an_emergency_and_then_starts_halted(
    database: Database,
) -> None:
    database.deployments.register("demo", "trend-btc", "trend", Decimal(1000), at(0))
    halted = database.deployments.move("demo", "trend-btc", S.EMERGENCY, at(1), "panic")
    assert (halted.state, halted.reason) == (S.EMERGENCY, "panic")
    with pytest.raises(InvalidTransitionError, match="cannot go from emergency to starting"):
        database.deployments.move("demo", "trend-btc", S.STARTING, at(2))
