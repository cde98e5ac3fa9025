"""Risk checks before an order is sent: daily loss by UTC day, drawdown halt, kill switch,
per-trade risk and exposure caps. Exits and reduce-only orders always pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tradeplay.domain.errors import ConfigError, InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.position import Position
from tradeplay.domain.values import Side
from tradeplay.engine.exposure import Exposure, SymbolExposure
from tradeplay.engine.risk import (
    Allow,
    Block,
    IntendedOrder,
    Reduce,
    RiskLimits,
    RiskState,
    RiskVerdict,
    check_entry,
)

D = Decimal
BTC = bybit_linear("BTCUSDT")
ETH = bybit_linear("ETHUSDT")
MAY_1 = datetime(2024, 5, 1, tzinfo=UTC)
NONE = RiskLimits()
FLAT = Exposure()


def at(hours: float = 0, seconds: float = 0) -> datetime:
    return MAY_1 + timedelta(hours=hours, seconds=seconds)


def order(
    side: str = "buy", qty: str = "0.1", price: str = "50000", **fields: Any
) -> IntendedOrder:
    fields.setdefault("instrument", BTC)
    fields.setdefault("time", at(12))
    if isinstance(fields.get("stop_price"), str):
        fields["stop_price"] = D(fields["stop_price"])
    return IntendedOrder(side=Side(side), qty=D(qty), price=D(price), **fields)


def holding(*items: tuple[str, str, str]) -> Exposure:
    """Positions as (symbol, signed size, mark price)."""
    return Exposure(
        tuple(SymbolExposure(symbol=s, size=D(size), mark_price=D(mark)) for s, size, mark in items)
    )


def state(equity: str = "10000", time: datetime | None = None) -> RiskState:
    return RiskState.start(D(equity), time or at(0))


def check(
    intended: IntendedOrder,
    limits: RiskLimits = NONE,
    exposure: Exposure = FLAT,
    risk_state: RiskState | None = None,
) -> RiskVerdict:
    return check_entry(intended, exposure, risk_state or state(), limits)


# ------------------------------------------------------------------------- daily loss (UTC)

DAILY_3 = RiskLimits(max_daily_loss_percent=D(3))


def lost_3_2_percent_on_may_1() -> RiskState:
    return state().update(D("9680"), at(hours=23, seconds=3599), DAILY_3)


def test_a_daily_loss_at_the_limit_blocks_entries_for_the_rest_of_the_utc_day() -> None:
    verdict = check(
        order(time=at(hours=23, seconds=3599)), DAILY_3, FLAT, lost_3_2_percent_on_may_1()
    )
    assert verdict == Block(
        "blocked: daily loss 3.2 % reached the 3 % limit for 2024-05-01 (UTC); "
        "new entries resume after 00:00 UTC"
    )


def test_the_daily_loss_resets_exactly_at_midnight_utc() -> None:
    lost = lost_3_2_percent_on_may_1()
    last_moment = at(hours=23, seconds=3599.999999)
    assert isinstance(check(order(time=last_moment), DAILY_3, FLAT, lost), Block)
    midnight = at(hours=24)
    assert check(order(time=midnight), DAILY_3, FLAT, lost) == Allow(D("0.1"))
    after = lost.update(D("9680"), midnight, DAILY_3)
    assert (after.day.isoformat(), after.day_start_equity, after.daily_loss_percent) == (
        "2024-05-02",
        D("9680"),
        D(0),
    )
    assert check(order(time=midnight), DAILY_3, FLAT, after) == Allow(D("0.1"))


def test_the_daily_window_is_the_calendar_day_not_a_rolling_24_hours() -> None:
    """A loss at 23:00 no longer blocks at 00:30, although it is only 90 minutes old."""
    lost_late = state().update(D("9600"), at(hours=23), DAILY_3)
    assert isinstance(check(order(time=at(hours=23.5)), DAILY_3, FLAT, lost_late), Block)
    assert check(order(time=at(hours=24.5)), DAILY_3, FLAT, lost_late) == Allow(D("0.1"))


def test_the_new_days_loss_is_measured_from_its_own_start() -> None:
    day_two = lost_3_2_percent_on_may_1().update(D("9680"), at(hours=24), DAILY_3)
    down_2_9 = day_two.update(D("9400"), at(hours=30), DAILY_3)  # 280 of 9680: 2.89 %
    assert check(order(time=at(hours=30)), DAILY_3, FLAT, down_2_9) == Allow(D("0.1"))
    down_3 = day_two.update(D("9389.6"), at(hours=31), DAILY_3)  # 290.4 of 9680: 3 %
    verdict = check(order(time=at(hours=31)), DAILY_3, FLAT, down_3)
    assert verdict == Block(
        "blocked: daily loss 3 % reached the 3 % limit for 2024-05-02 (UTC); "
        "new entries resume after 00:00 UTC"
    )


def test_a_profitable_day_is_no_loss() -> None:
    up = state().update(D("11000"), at(5), DAILY_3)
    assert up.daily_loss_percent == 0
    assert check(order(), DAILY_3, FLAT, up) == Allow(D("0.1"))


# --------------------------------------------------------------------------- drawdown halt

DRAWDOWN_20 = RiskLimits(max_drawdown_percent=D(20))


def halted() -> RiskState:
    """Equity rose to 12000, then fell 20 % to 9600."""
    return state().update(D("12000"), at(1), DRAWDOWN_20).update(D("9600"), at(2), DRAWDOWN_20)


def test_a_drawdown_reaching_the_limit_halts_new_entries() -> None:
    assert (
        not state()
        .update(D("9601"), at(1), DRAWDOWN_20)
        .update(D("12000"), at(2), DRAWDOWN_20)
        .halted
    )
    stopped = halted()
    assert stopped.halted
    assert check(order(), DRAWDOWN_20, FLAT, stopped) == Block(
        "blocked: trading halted: drawdown 20 % from the equity peak 12000 reached the 20 % "
        "limit at 2024-05-01 02:00:00 UTC; only exits and reduce-only orders pass until the "
        "halt is reset"
    )


def test_exits_and_reduce_only_orders_pass_when_halted() -> None:
    long = holding(("BTCUSDT", "0.3", "48000"))
    assert check(order("sell", "0.3"), DRAWDOWN_20, long, halted()) == Allow(D("0.3"))
    assert check(order("sell", "0.1"), DRAWDOWN_20, long, halted()) == Allow(D("0.1"))
    reduce_only = order("buy", "1", reduce_only=True)
    assert check(reduce_only, DRAWDOWN_20, FLAT, halted()) == Allow(D("1"))


def test_a_reversal_when_halted_is_cut_to_the_closing_part() -> None:
    long = holding(("BTCUSDT", "0.3", "48000"))
    verdict = check(order("sell", "0.5"), DRAWDOWN_20, long, halted())
    assert isinstance(verdict, Reduce)
    assert verdict.qty == D("0.3")
    assert verdict.reason.endswith("; only the 0.3 BTC closing passes")


def test_the_halt_stays_until_an_operator_resumes() -> None:
    recovered = halted().update(D("13000"), at(3), DRAWDOWN_20)
    assert recovered.halted
    assert isinstance(check(order(), DRAWDOWN_20, FLAT, recovered), Block)
    resumed = halted().resume()
    assert (resumed.halted, resumed.equity_peak) == (False, D("9600"))
    assert check(order(), DRAWDOWN_20, FLAT, resumed) == Allow(D("0.1"))


# ------------------------------------------------------------------- kill switch, leverage


def test_the_kill_switch_blocks_entries_but_not_exits() -> None:
    killed = RiskLimits(kill_switch=True)
    assert check(order(), killed) == Block(
        "blocked: the kill switch is on; only exits and reduce-only orders pass"
    )
    short = holding(("BTCUSDT", "-0.2", "50000"))
    assert check(order("buy", "0.2"), killed, short) == Allow(D("0.2"))


def test_an_order_above_the_leverage_limit_is_blocked() -> None:
    limits = RiskLimits(max_leverage=D(5))
    assert check(order(leverage=D(5)), limits) == Allow(D("0.1"))
    assert check(order(leverage=D(10)), limits) == Block(
        "blocked: the order would use 10× leverage; this environment allows at most 5×"
    )


def test_no_equity_no_entry() -> None:
    assert check(order(), NONE, FLAT, state("0")) == Block(
        "blocked: equity is 0 USDT: no new positions"
    )


# --------------------------------------------------------------------------- per-trade risk

RISK_1 = RiskLimits(max_trade_risk_percent=D(1))


@pytest.mark.parametrize(
    ("side", "qty", "stop", "expected"),
    [
        ("buy", "0.1", "49000", Allow(D("0.1"))),  # 100 USDT at risk = 1 %
        (
            "buy",
            "0.25",
            "49000",
            Reduce(
                D("0.1"),
                "reduced from 0.25 to 0.1 BTC: risk to the stop 2.5 % of equity is above the "
                "1 % limit",
            ),
        ),
        (
            "sell",
            "0.2",
            "50700",
            Reduce(
                D("0.142"),  # 100 / 700 = 0.1428…, down to the step
                "reduced from 0.2 to 0.142 BTC: risk to the stop 1.4 % of equity is above the "
                "1 % limit",
            ),
        ),
        (
            "buy",
            "0.1",
            None,
            Block(
                "blocked: no stop loss: the loss of this trade is not bounded and the per-trade "
                "limit is 1 % of equity"
            ),
        ),
        (
            "buy",
            "0.1",
            "50000",
            Block("blocked: stop 50000 is not below the entry price 50000 of a buy"),
        ),
        (
            "sell",
            "0.1",
            "49000",
            Block("blocked: stop 49000 is not above the entry price 50000 of a sell"),
        ),
    ],
)
def test_per_trade_risk_reduces_the_size_to_the_limit(
    side: str, qty: str, stop: str | None, expected: RiskVerdict
) -> None:
    assert check(order(side, qty, stop_price=stop), RISK_1) == expected


def test_a_reduction_below_the_minimum_blocks_with_the_instruments_message() -> None:
    """1 % of 10000 over a 20000 stop distance is 0.005 ETH: below the step, nothing is left."""
    verdict = check(order("buy", "1", "30000", instrument=ETH, stop_price="10000"), RISK_1)
    assert verdict == Block("blocked: risk to the stop 200 % of equity is above the 1 % limit")
    # 1 % of 10 USDT over a 10 USDT distance is 0.01 ETH: on the step, but worth only 4 USDT
    small = order("buy", "1", "400", instrument=ETH, stop_price="390")
    assert check(small, RISK_1, FLAT, state("10")) == Block(
        "blocked: risk to the stop 100 % of equity is above the 1 % limit; what is left is too "
        "small: ETHUSDT: order value 4 USDT (qty 0.01 × price 400) is below the minimum order "
        "value 5 USDT"
    )


# ----------------------------------------------------------------------------- exposure caps

SYMBOL_2X = RiskLimits(max_symbol_exposure=D(2))
TOTAL_3X = RiskLimits(max_total_exposure=D(3))


def test_symbol_exposure_above_the_cap_is_reduced_to_the_headroom() -> None:
    """10000 USDT equity, 10000 USDT of BTC held: 10000 more fit under 2× equity."""
    held = holding(("BTCUSDT", "0.2", "50000"))
    assert check(order("buy", "0.2"), SYMBOL_2X, held) == Allow(D("0.2"))
    assert check(order("buy", "0.3"), SYMBOL_2X, held) == Reduce(
        D("0.2"),
        "reduced from 0.3 to 0.2 BTC: BTCUSDT exposure would be 2.5× equity, above the 2× limit",
    )


def test_symbol_exposure_at_the_cap_blocks() -> None:
    full = holding(("BTCUSDT", "0.4", "50000"))
    assert check(order("buy", "0.01"), SYMBOL_2X, full) == Block(
        "blocked: BTCUSDT exposure would be 2.05× equity, above the 2× limit"
    )


def test_a_reversal_counts_only_the_new_side_against_the_cap() -> None:
    """Short 0.4 (2× equity) then buy 0.8: 0.4 closes, 0.4 opens long at 2× — allowed."""
    short = holding(("BTCUSDT", "-0.4", "50000"))
    assert check(order("buy", "0.8"), SYMBOL_2X, short) == Allow(D("0.8"))
    assert check(order("buy", "1"), SYMBOL_2X, short) == Reduce(
        D("0.8"),
        "reduced from 1 to 0.8 BTC: BTCUSDT exposure would be 3× equity, above the 2× limit",
    )


def test_total_exposure_counts_every_symbol_gross() -> None:
    """A 15000 USDT ETH short and 10000 of BTC: 5000 more fit under 3×; longs and shorts add."""
    book = holding(("ETHUSDT", "-5", "3000"), ("BTCUSDT", "0.2", "50000"))
    assert book.total_notional == D("25000")
    assert check(order("buy", "0.3"), TOTAL_3X, book) == Reduce(
        D("0.1"),
        "reduced from 0.3 to 0.1 BTC: total exposure would be 4× equity, above the 3× limit",
    )


def test_the_tightest_limit_wins_and_every_reason_is_given() -> None:
    limits = RiskLimits(max_trade_risk_percent=D(1), max_symbol_exposure=D(1))
    verdict = check(order("buy", "0.5", stop_price="49500"), limits)
    assert verdict == Reduce(
        D("0.2"),
        "reduced from 0.5 to 0.2 BTC: risk to the stop 2.5 % of equity is above the 1 % limit; "
        "BTCUSDT exposure would be 2.5× equity, above the 1× limit",
    )


# ------------------------------------------------------------------------- values and state


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_daily_loss_percent 0 must be positive"):
        RiskLimits(max_daily_loss_percent=D(0))
    with pytest.raises(ConfigError, match=r"max_leverage 0\.5 is below 1"):
        RiskLimits(max_leverage=D("0.5"))


def test_the_state_never_goes_back_in_time() -> None:
    with pytest.raises(InputError, match="goes back in time"):
        state(time=at(5)).update(D(1), at(4), NONE)


def test_the_state_needs_utc_times() -> None:
    with pytest.raises(InputError, match="has no timezone"):
        RiskState.start(D(1), datetime(2024, 5, 1))  # noqa: DTZ001 - the mistake under test


def test_exposure_from_domain_positions() -> None:
    flat = Position(symbol="ETHUSDT")
    long = Position(symbol="BTCUSDT", size=D("0.5"), entry_price=D("40000"), cost_basis=D("20000"))
    exposure = Exposure.of([flat, long], {"BTCUSDT": D("50000")})
    assert exposure.size("BTCUSDT") == D("0.5")
    assert exposure.notional("BTCUSDT") == D("25000")
    assert exposure.size("ETHUSDT") == 0
    assert exposure.leverage(D("10000")) == D("2.5")
    with pytest.raises(InputError, match="no mark price"):
        Exposure.of([long], {})
