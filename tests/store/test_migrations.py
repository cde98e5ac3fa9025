"""Migrations: shipped in the package, applied on open, and an old schema upgrades with its rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from importlib import resources

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tests.store.builders import T0, order
from tradeplay.domain.order import OrderStatus
from tradeplay.store import Database, DeploymentState, RiskEventRecord, migrate
from tradeplay.store.schema import metadata


def test_the_migrations_are_inside_the_package() -> None:
    versions = resources.files("tradeplay.store.migrations") / "versions"
    names = {entry.name for entry in versions.iterdir() if entry.name.startswith("r0")}
    assert names == {
        "r0001_trading_records.py",
        "r0002_keys_and_graduation.py",
        "r0003_panic_requests.py",
        "r0004_risk_events_per_deployment.py",
        "r0005_pipeline.py",
        "r0006_stage_bars.py",
        "r0007_stage_bar_traded.py",
        "r0008_placement_held_in.py",
    }
    assert (resources.files("tradeplay.store.migrations") / "env.py").is_file()


def test_opening_a_database_brings_it_to_the_newest_revision(empty_url: str) -> None:
    database = Database.open(empty_url)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    Database.open(empty_url).close()  # opening again is a no-op
    database.close()


def test_the_migrated_schema_is_exactly_the_tables_the_code_uses(empty_url: str) -> None:
    database = Database.open(empty_url)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    database.close()
    assert differences == []


_OLD_ORDER = text(
    "INSERT INTO orders (environment, client_order_id, order_id, symbol, side, order_type, "
    "qty, price, trigger_price, time_in_force, reduce_only, status, filled_qty, filled_value, "
    "fees, reason, created_at, updated_at) VALUES ('demo', 'tp-1', 'venue-tp-1', 'BTCUSDT', "
    "'buy', 'stop_limit', '0.010', '42000.50', '41999.9', 'gtc', :no, 'new', '0', '0.00', "
    "'0.000231', '', :created, :updated)"
)


def test_an_old_schema_upgrades_with_its_rows_intact(empty_url: str) -> None:
    """Revision 1, rows written as revision 1 wrote them, then the upgrade to the newest."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        connection.execute(_OLD_ORDER, {"no": False, "created": moment, "updated": moment})
    engine.dispose()

    database = Database.open(empty_url)
    assert migrate.current_revision(database.engine) == migrate.head_revision() != "0001"
    assert database.orders.get("demo", order().client_order_id) == order(status=OrderStatus.NEW)
    database.close()


def test_a_failed_upgrade_changes_nothing(empty_url: str) -> None:
    """Upgrades run in one transaction: a crash half way leaves the old revision."""
    database = Database.open(empty_url, upgrade=False)
    migrate.upgrade(database.engine, "0001")
    with database.engine.begin() as connection:  # sabotage: 0002 will find its table taken
        connection.execute(text("CREATE TABLE api_keys (name TEXT)"))
    with pytest.raises(DBAPIError):
        migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == "0001"
    assert "graduation_decisions" not in inspect(database.engine).get_table_names()
    database.close()


def test_a_revision_2_schema_upgrades_to_hold_panic_requests(empty_url: str) -> None:
    """Revision 2 with a deployment in it; the upgrade adds the panic requests beside it."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0002")
    assert "panic_requests" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        connection.execute(
            text(
                "INSERT INTO deployments (environment, name, play, capital, state, reason, "
                "updated_at) VALUES ('live', 'ema', 'EMA cross', '500', 'running', '', :at)"
            ),
            {"at": moment},
        )
    engine.dispose()

    database = Database.open(empty_url)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    stored = database.deployments.get("live", "ema")
    assert stored is not None
    assert (stored.state, stored.capital) == (DeploymentState.RUNNING, Decimal(500))
    request = database.deployments.request_panic("live", T0)
    assert database.deployments.pending_panics("live") == [request]
    database.close()


_OLD_RISK_EVENT = text(
    "INSERT INTO risk_events (environment, time, rule, action, deployment, value, threshold, "
    "detail) VALUES ('demo', :at, :rule, 'block', :deployment, '3.5', '3', 'daily loss')"
)


def test_a_revision_3_schema_upgrades_to_key_risk_events_per_deployment(empty_url: str) -> None:
    """Revision 3 with risk events of a pair and of the environment; after the upgrade both are
    intact, and a second pair breaching the same rule at the same instant is a row of its own."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        for rule, deployment in (("max_open_orders", "trend"), ("daily_loss", None)):
            connection.execute(
                _OLD_RISK_EVENT, {"at": moment, "rule": rule, "deployment": deployment}
            )
    engine.dispose()

    database = Database.open(empty_url)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    before = database.risk_events.since("demo", T0)
    assert [(e.rule, e.deployment, e.value) for e in before] == [
        ("max_open_orders", "trend", Decimal("3.5")),
        ("daily_loss", None, Decimal("3.5")),
    ]
    other = RiskEventRecord(time=T0, rule="max_open_orders", action="block", deployment="rsi")
    assert database.risk_events.record("demo", other)
    assert not database.risk_events.record("demo", before[1])  # still written once
    assert len(database.risk_events.since("demo", T0)) == 3
    database.close()


_OLD_DECISION = text(
    "INSERT INTO graduation_decisions (play, from_stage, to_stage, verdict, metrics, thresholds, "
    "decided_at) VALUES ('trend', 'demo', 'live_pilot', 'promote', '{}', '{}', :at)"
)


def test_a_revision_4_schema_upgrades_to_hold_the_pipeline(empty_url: str) -> None:
    """Decisions stored before the pipeline kept no reason: they come back with an empty one
    and no share; placements can be stored after the upgrade."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0004")
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        connection.execute(_OLD_DECISION, {"at": moment})
    engine.dispose()

    database = Database.open(empty_url)
    [old] = database.graduations.history("trend")
    assert (old.verdict, old.reason, old.share) == ("promote", "", None)
    assert database.graduations.placements() == []
    # Another verdict at the same instant is a decision of its own; the same one is a replay.
    held = replace(old, verdict="hold", reason="operator: wait")
    assert database.graduations.record(held)
    assert not database.graduations.record(held)
    assert [d.verdict for d in database.graduations.history("trend")] == ["promote", "hold"]
    database.close()


_OLD_STAGE_BAR = text(
    "INSERT INTO stage_bars (play, entered_at, open_ms, open, high, low, close, volume, signals) "
    "VALUES ('trend', :at, :ms, 1.0, 2.0, 0.5, 1.5, 10.0, :signals)"
)


def test_a_revision_6_tape_upgrades_with_its_bars_taken_as_traded(empty_url: str) -> None:
    """Before the flag, a stage's bars after its warm-up were stored as traded ones."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0006")
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        connection.execute(_OLD_STAGE_BAR, {"at": moment, "ms": 60_000, "signals": None})
        connection.execute(_OLD_STAGE_BAR, {"at": moment, "ms": 120_000, "signals": '["x"]'})
    engine.dispose()

    database = Database.open(empty_url)
    warm, bar = database.graduations.bars("trend", T0)
    assert (warm.signals, warm.traded) == (None, False)
    assert (bar.signals, bar.traded) == (("x",), True)
    database.close()


def test_a_revision_7_schema_upgrades_with_its_placements_not_held(empty_url: str) -> None:
    """A play placed before moves could be held stored: after the upgrade it stands where it
    stood, held nowhere, and a hold can be stored."""
    engine = Database.open(empty_url, upgrade=False).engine
    migrate.upgrade(engine, "0007")
    with engine.begin() as connection:
        moment = T0 if connection.dialect.name == "postgresql" else T0.replace(tzinfo=None)
        connection.execute(
            text(
                "INSERT INTO pipeline_placements (play, stage, entered_at, share, approved, "
                "updated_at) VALUES ('ema', 'demo', :at, '0.5', :no, :at)"
            ),
            {"at": moment, "no": False},
        )
    engine.dispose()

    database = Database.open(empty_url)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    stored = database.graduations.placement("ema")
    assert stored is not None
    assert (stored.stage, stored.share, stored.entered_at, stored.held_in) == (
        "demo",
        Decimal("0.5"),
        T0,
        None,
    )
    database.graduations.place(replace(stored, held_in="shadow"))
    assert database.graduations.placement("ema") == replace(stored, held_in="shadow")
    database.close()
