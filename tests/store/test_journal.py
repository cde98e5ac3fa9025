"""Signals, balances, equity and risk events: facts at a time, each written once."""

from __future__ import annotations

from decimal import Decimal

from tests.store.builders import EIGHTEEN_DECIMALS, LARGE, T0, at, fill
from tradeplay.domain.account import Account
from tradeplay.domain.signal import Signal, SignalAction
from tradeplay.store import Database, EquitySnapshot, PlaySignal, RiskEventRecord


def _signal(seconds: float = 0, action: SignalAction = SignalAction.ENTER_LONG) -> Signal:
    entry = action.is_entry
    return Signal(
        symbol="BTCUSDT",
        time=at(seconds),
        action=action,
        reason="ema cross",
        tag="breakout",
        stop_price=Decimal("41000.5") if entry else None,
        target_price=Decimal("45000") if entry else None,
        strength=0.1 + 0.2,  # a float that is not a short decimal: must come back bit for bit
    )


def test_a_signal_is_stored_once_per_play_symbol_time_and_action(database: Database) -> None:
    assert database.signals.record("demo", "trend", _signal())
    assert not database.signals.record("demo", "trend", _signal())
    assert database.signals.record("demo", "meanrev", _signal())
    assert database.signals.record("demo", "trend", _signal(60, SignalAction.EXIT_LONG))
    assert database.signals.since("demo", T0) == [
        PlaySignal(play="trend", signal=_signal()),
        PlaySignal(play="meanrev", signal=_signal()),
        PlaySignal(play="trend", signal=_signal(60, SignalAction.EXIT_LONG)),
    ]
    assert [s.play for s in database.signals.since("demo", at(1))] == ["trend"]
    assert database.signals.since("live", T0) == []


def test_the_latest_balance_of_each_coin(database: Database) -> None:
    funded = Account.funded("USDT", LARGE)
    traded = funded.apply_fill(fill(), realized_pnl=EIGHTEEN_DECIMALS)
    assert database.balances.record("demo", funded, at(0))
    assert database.balances.record("demo", traded, at(10))
    assert not database.balances.record("demo", traded, at(10))
    database.balances.record("demo", Account.funded("USDC", Decimal(5)), at(1))
    latest = database.balances.latest("demo")
    assert [a.coin for a in latest] == ["USDC", "USDT"]
    usdt = latest[1]
    assert usdt.wallet_balance == traded.wallet_balance
    assert (usdt.realized_pnl, usdt.fees_paid) == (EIGHTEEN_DECIMALS, traded.fees_paid)
    assert usdt.updated_at == at(10)
    usdt.check_balanced()
    assert database.balances.latest("live") == []


def test_the_equity_curve_in_time_order(database: Database) -> None:
    snapshots = [
        EquitySnapshot(
            time=at(seconds),
            equity=Decimal("1000") + Decimal(seconds),
            wallet_balance=Decimal("1000"),
            unrealized_pnl=Decimal(seconds),
        )
        for seconds in (120, 0, 60)
    ]
    for snapshot in snapshots:
        assert database.equity.record("demo", snapshot)
    assert not database.equity.record("demo", snapshots[0])
    assert [s.time for s in database.equity.curve("demo")] == [at(0), at(60), at(120)]
    assert database.equity.curve("demo", since=at(60)) == [snapshots[2], snapshots[0]]


def test_the_equity_peak_first_and_latest_are_found_by_the_database(database: Database) -> None:
    """The peak is the highest number, not the highest text ("999.5" sorts above "10000")."""
    values = {0: "9990.5", 60: "10000.25", 120: "999.5", 180: "10000.2"}
    for seconds, value in values.items():
        snapshot = EquitySnapshot(
            time=at(seconds),
            equity=Decimal(value),
            wallet_balance=Decimal(value),
            unrealized_pnl=Decimal(0),
        )
        database.equity.record("demo", snapshot)
    peak = database.equity.peak("demo")
    assert peak is not None
    assert (peak.time, peak.equity) == (at(60), Decimal("10000.25"))
    later = database.equity.peak("demo", since=at(61))
    assert later is not None
    assert later.equity == Decimal("10000.2")
    first, latest = database.equity.first("demo", at(1)), database.equity.latest("demo")
    assert first is not None
    assert latest is not None
    assert (first.time, latest.time) == (at(60), at(180))
    assert database.equity.peak("live") is None
    assert database.equity.first("demo", at(181)) is None


def test_risk_events_keep_their_numbers(database: Database) -> None:
    breach = RiskEventRecord(
        time=at(5),
        rule="max_drawdown",
        action="emergency",
        deployment="trend-btc",
        value=Decimal("-0.2500"),
        threshold=Decimal("-0.20"),
        detail="equity 750 is 25% below the peak 1000",
    )
    assert database.risk_events.record("live", breach)
    assert not database.risk_events.record("live", breach)
    assert database.risk_events.since("live", T0) == [breach]
    assert database.risk_events.since("demo", T0) == []


def test_two_pairs_breaching_one_rule_at_one_instant_are_two_risk_events(
    database: Database,
) -> None:
    def breach(deployment: str | None) -> RiskEventRecord:
        return RiskEventRecord(
            time=at(5), rule="max_open_orders", action="block", deployment=deployment
        )

    assert database.risk_events.record("demo", breach("trend-btc"))
    assert database.risk_events.record("demo", breach("meanrev-eth"))
    assert database.risk_events.record("demo", breach(None))  # the environment as a whole
    assert not database.risk_events.record("demo", breach("trend-btc"))
    assert not database.risk_events.record("demo", breach(None))  # a replay, however keyed
    found = database.risk_events.since("demo", T0)
    assert sorted(str(e.deployment) for e in found) == ["None", "meanrev-eth", "trend-btc"]
