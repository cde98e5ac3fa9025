"""Take-profit, stop-loss, trailing stop and the path rule inside a bar (and from minutes)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tests.sim.scenarios import MINUTE, T0, Scenario, bars, config
from tradeplay.domain.timeframe import Timeframe

BAR0 = (100, 101, 99, 100)


def long_at_100(*rows: tuple[float, ...], **settings: object) -> Scenario:
    """A long of 1 BTC bought at 100 in bar 1; the caller's rows follow."""
    scenario = Scenario([BAR0, (100, 100.5, 99.5, 100), *rows], config(**settings))
    scenario.order("entry", "buy")
    scenario.step()
    return scenario


def test_stop_loss_before_take_profit_when_one_bar_touches_both() -> None:
    """Pessimistic path for a long: open → low → high → close, so the stop fills first."""
    scenario = long_at_100((100, 106, 94, 100))
    scenario.protect(take_profit="105", stop_loss="95")
    scenario.finish()
    assert scenario.fills()[1:] == [(2, "sl-1", "sell", "1", "95", "0.05225", "taker")]
    assert scenario.happenings()[-1] == (2, "OrderTriggered", "sl-1")
    assert (
        scenario.exchange.trading_stop("BTCUSDT").take_profit is None
    )  # cleared with the position


def test_a_short_meets_the_high_first() -> None:
    scenario = Scenario([BAR0, (100, 100.5, 99.5, 100), (100, 106, 94, 100)])
    scenario.order("entry", "sell")
    scenario.step()
    scenario.protect(take_profit="95", stop_loss="105")
    scenario.finish()
    assert scenario.fills()[1:] == [(2, "sl-1", "buy", "1", "105", "0.05775", "taker")]


def test_take_profit_fills_as_a_taker_at_its_trigger_with_slippage() -> None:
    from tradeplay.sim.slippage import FixedBps

    scenario = long_at_100((100, 106, 99, 105), slippage=FixedBps(Decimal(10)))
    scenario.protect(take_profit="105")
    scenario.finish()
    # The entry paid 10 bps too (100.1); the take-profit sells 10 bps under 105: 104.895 → 104.8.
    assert scenario.fills() == [
        (1, "entry", "buy", "1", "100.1", "0.055055", "taker"),
        (2, "tp-1", "sell", "1", "104.8", "0.05764", "taker"),
    ]


def test_a_stop_loss_gapped_through_fills_at_the_open() -> None:
    scenario = long_at_100((93, 94, 92, 93))
    scenario.protect(stop_loss="95")
    scenario.finish()
    assert scenario.fills()[-1] == (2, "sl-1", "sell", "1", "93", "0.05115", "taker")


def test_trailing_stop_ratchets_with_the_best_price_and_never_moves_back() -> None:
    scenario = long_at_100(
        (100, 103, 99.5, 102.5),  # best 103 → stop 101 (99.5 came before the new high)
        (102.5, 105, 103.5, 104),  # best 105 → stop 103
        (104, 104.5, 103.2, 104),  # stays above 103
        (104, 104, 102, 102.5),  # falls through 103
    )
    scenario.protect(trailing_distance="2")
    scenario.finish()
    assert scenario.fills()[-1] == (5, "ts-1", "sell", "1", "103", "0.05665", "taker")


def test_trailing_stop_waits_for_its_activation_price() -> None:
    scenario = long_at_100(
        (100, 101.5, 98, 98.5),  # would have stopped at 99.5 from 101.5, but not active yet
        (98.5, 103, 98.5, 102.5),  # reaches 102: active; best 103 → stop 101.5
        (102.5, 102.5, 101, 101.5),
    )
    scenario.protect(trailing_distance="1.5", trailing_activation="102")
    scenario.finish()
    assert scenario.fills()[-1] == (4, "ts-1", "sell", "1", "101.5", "0.055825", "taker")


def test_protection_goes_when_the_position_closes() -> None:
    scenario = long_at_100((100, 101, 99, 100), (100, 101, 80, 100))
    scenario.protect(stop_loss="90", take_profit="110")
    scenario.order("exit", "sell", reduce_only=True)
    scenario.finish()
    assert [f[1] for f in scenario.fills()] == ["entry", "exit"]
    stop = scenario.exchange.trading_stop("BTCUSDT")
    assert (stop.stop_loss, stop.take_profit) == (None, None)


def test_exact_minutes_can_put_the_target_before_the_stop() -> None:
    """A 5-minute bar touching both: the pessimistic rule stops out; the minutes show the
    high came first, so the take-profit fills."""
    five = Timeframe.parse("5m")
    rows = [BAR0, (100, 100.5, 99.5, 100), (100, 106, 94, 100)]
    minute_rows = [
        (100, 106, 100, 105.5),  # the high comes first …
        (105.5, 105.5, 99, 99.5),
        (99.5, 99.5, 94, 95),  # … then the low
        (95, 99, 95, 99),
        (99, 100, 98, 100),
    ]
    minutes = bars(minute_rows, start=T0 + 2 * 5 * MINUTE)
    outcomes = {}
    for name, given in (("pessimistic", None), ("exact", minutes)):
        scenario = Scenario(rows, config(timeframe=five), minutes=given, step_ms=five.ms)
        scenario.order("entry", "buy")
        scenario.step()
        scenario.protect(take_profit="105", stop_loss="95")
        scenario.finish()
        outcomes[name] = scenario.fills()[-1]
    assert outcomes["pessimistic"] == (2, "sl-1", "sell", "1", "95", "0.05225", "taker")
    assert outcomes["exact"] == (2, "tp-1", "sell", "1", "105", "0.05775", "taker")


def test_minute_fills_are_stamped_with_their_minute() -> None:
    five = Timeframe.parse("5m")
    rows = [BAR0, (100, 104, 99, 103)]
    minutes = bars(
        [(100, 100, 99, 100), (100, 101, 100, 101), (101, 104, 101, 103)], start=T0 + 5 * MINUTE
    )
    scenario = Scenario(rows, config(timeframe=five), minutes=minutes, step_ms=five.ms)
    scenario.order("l", "sell", "limit", price="102")
    scenario.finish()
    (filled,) = [e for _, e in scenario.log if type(e).__name__ == "OrderFilled"]
    assert int(filled.time.timestamp() * 1000) == T0 + 7 * MINUTE


def test_equity_is_wallet_plus_unrealized_pnl_at_each_close() -> None:
    scenario = long_at_100((101, 102, 100, 101.5))
    result = scenario.exchange.advance(scenario.bars, 2, 3)
    # 10 000 − 0.055 entry fee + 1 × (101.5 − 100)
    assert np.array_equal(result.equity, np.array([10_001.445]))


def test_protection_attached_to_an_entry_is_placed_at_the_fill_and_guards_that_bar() -> None:
    """2 % / 4 % from the fill at 100: stop 98, target 104; the entry bar's low reaches 97."""
    from tradeplay.domain.protection import Level, LevelKind, Protection

    scenario = Scenario([BAR0, (100, 100.5, 97, 99)])
    bracket = Protection(
        Level(LevelKind.FRACTION, Decimal("0.02")), Level(LevelKind.FRACTION, Decimal("0.04"))
    )
    scenario.order("entry", "buy", protection=bracket)
    scenario.finish()
    assert scenario.fills() == [
        (1, "entry", "buy", "1", "100", "0.055", "taker"),
        (1, "sl-1", "sell", "1", "98", "0.0539", "taker"),
    ]


def test_attached_levels_round_to_the_tick_toward_the_entry() -> None:
    """A 1.55 distance from 100.0 (tick 0.1): stop 98.45 → 98.5, target 101.55 → 101.5."""
    from tradeplay.domain.protection import Level, LevelKind, Protection

    scenario = Scenario([BAR0, (100, 100.5, 99.5, 100)])
    bracket = Protection(
        Level(LevelKind.DISTANCE, Decimal("1.55")), Level(LevelKind.DISTANCE, Decimal("1.55"))
    )
    scenario.order("entry", "buy", protection=bracket)
    scenario.finish()
    stop = scenario.exchange.trading_stop("BTCUSDT")
    assert (stop.stop_loss, stop.take_profit) == (Decimal("98.5"), Decimal("101.5"))
