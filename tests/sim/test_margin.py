"""Margin, liquidation and bankruptcy prices: hand-computed Bybit USDT-linear scenarios.

BTCUSDT tiers used below (built-in snapshot): value ≤ 2M: 100x, MMR 0.5 %, deduction 0;
≤ 10M: 50x, MMR 1 %, deduction 10 000; ≤ 20M: 20x, MMR 2.5 %, deduction 160 000.
Taker fee 0.055 %, tick 0.1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import pytest

from tests.domain.builders import fill
from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.position import Position
from tradeplay.domain.values import MarginMode, Side
from tradeplay.sim.margin import (
    Holding,
    LiquidationTrigger,
    check_leverage,
    check_liquidation,
    cross_bankruptcy_price,
    cross_liquidation_price,
    cross_maintenance_margin,
    initial_margin,
    isolated_bankruptcy_price,
    isolated_liquidation_price,
    isolated_position_margin,
    maintenance_margin,
    order_cost,
    position_initial_margin,
    position_value,
)

D = Decimal
BTC = bybit_linear("BTCUSDT")
ETH = bybit_linear("ETHUSDT")


def opened(side: str, qty: str, price: str, symbol: str = "BTCUSDT") -> Position:
    return Position(symbol=symbol).apply_fill(fill(side, qty, price, symbol=symbol))


def same(price: Decimal | None, expected: Decimal) -> bool:
    """Equal to 1e-20: liquidation prices are rounded towards the breach in the 28th digit."""
    return price is not None and abs(price - expected) < D("1e-20")


# ------------------------------------------------------------------------------ margin


def test_initial_margin_is_value_over_leverage_and_value_is_unsigned() -> None:
    assert position_value(D("-0.5"), D(60000)) == D(30000)
    assert initial_margin(D(30000), D(20)) == D(1500)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000000", "5000"),  # tier 1: 1M × 0.5 %
        ("2000000", "10000"),  # tier 1 upper bound, inclusive: 2M × 0.5 %
        ("2000001", "10000.01"),  # tier 2: 2 000 001 × 1 % − 10 000, continuous at the bound
        ("5000000", "40000"),  # tier 2: 50 000 − 10 000
        ("15000000", "215000"),  # tier 3: 375 000 − 160 000
    ],
)
def test_maintenance_margin_follows_the_tier_of_the_value(value: str, expected: str) -> None:
    assert maintenance_margin(BTC, D(value)) == D(expected)


def test_order_cost_reserves_margin_and_both_taker_fees() -> None:
    # Buy 1 BTC at 20 000, 50x: IM 400; fee to open 20 000 × 0.055 % = 11;
    # bankruptcy 20 000 × (1 − 1/50) = 19 600, fee to close 19 600 × 0.055 % = 10.78.
    cost = order_cost(BTC, Side.BUY, D(1), D(20000), D(50))
    assert (cost.initial_margin, cost.fee_to_open, cost.fee_to_close) == (
        D(400),
        D(11),
        D("10.78"),
    )
    assert cost.total == D("421.78")
    # Sell: bankruptcy 20 000 × (1 + 1/50) = 20 400, fee to close 11.22.
    assert order_cost(BTC, Side.SELL, D(1), D(20000), D(50)).total == D("422.22")


def test_position_initial_margin_adds_the_fee_to_close_at_the_bankruptcy_price() -> None:
    # Long 1 @ 20 000 at 50x: margin 400, bankruptcy 19 600, fee to close 10.78.
    assert position_initial_margin(BTC, opened("buy", "1", "20000"), D(50)) == D("410.78")
    # At 1x a long cannot go bankrupt: the margin alone.
    assert position_initial_margin(BTC, opened("buy", "1", "20000"), D(1)) == D(20000)


def test_cross_requirement_is_maintenance_margin_plus_the_fee_to_close_at_the_mark() -> None:
    # 2 BTC at mark 30 000: value 60 000, MM 300, fee to close 33.
    assert cross_maintenance_margin(BTC, opened("sell", "2", "31000"), D(30000)) == D(333)


# ------------------------------------------------------------------------------ leverage


def test_leverage_within_the_tier_passes() -> None:
    check_leverage(BTC, D(100), D(2000000))
    check_leverage(BTC, D(50), D(5000000))
    check_leverage(BTC, D("12.5"), D(15000000))


@pytest.mark.parametrize(
    ("leverage", "value", "message"),
    [
        (
            "100",
            "5000000",
            "BTCUSDT: leverage 100x is above the maximum 50x for a position value of 5000000 "
            "USDT (risk-limit tier up to 10000000 USDT)",
        ),
        (
            "21",
            "15000000",
            "BTCUSDT: leverage 21x is above the maximum 20x for a position value of 15000000 "
            "USDT (risk-limit tier up to 20000000 USDT)",
        ),
        ("101", "1000", "BTCUSDT: leverage 101 is outside 1 to 100"),
        ("0.5", "1000", "BTCUSDT: leverage 0.5 is outside 1 to 100"),
        ("10.005", "1000", "BTCUSDT: leverage 10.005 is not a multiple of the leverage step 0.01"),
    ],
)
def test_leverage_above_the_limit_is_refused_with_the_limit_named(
    leverage: str, value: str, message: str
) -> None:
    with pytest.raises(InstrumentRuleError) as caught:
        check_leverage(BTC, D(leverage), D(value))
    assert str(caught.value) == message


# ------------------------------------------------------------------------------ isolated


class Isolated(NamedTuple):
    side: str
    qty: str
    entry: str
    leverage: str
    margin: str
    liquidation: Decimal
    bankruptcy: str


@pytest.mark.parametrize(
    "case",
    [
        # long 1 @ 20 000, 50x: M = 400; liq = (20 000 − 400) / (1 × (1 − 0.005)) = 19 600 / 0.995;
        # bankrupt = 20 000 − 400 / 1 = 19 600
        Isolated("buy", "1", "20000", "50", "400", D(19600) / D("0.995"), "19600"),
        # long 1 @ 20 000, 10x: M = 2 000; liq = 18 000 / 0.995 = 18 090.45…; bankrupt 18 000
        Isolated("buy", "1", "20000", "10", "2000", D(18000) / D("0.995"), "18000"),
        # short 1 @ 20 000, 50x: liq = (20 000 + 400) / (1 × 1.005) = 20 298.51…; bankrupt 20 400
        Isolated("sell", "1", "20000", "50", "400", D(20400) / D("1.005"), "20400"),
        # short 2 @ 30 000, 20x: M = 60 000 / 20 = 3 000;
        # liq = (60 000 + 3 000) / (2 × 1.005) = 31 343.28…; bankrupt 30 000 + 3 000 / 2 = 31 500
        Isolated("sell", "2", "30000", "20", "3000", D(63000) / D("2.01"), "31500"),
        # long 100 @ 60 000 (6M, tier 2), 25x: M = 240 000;
        # liq = (6M − 240 000 − 10 000) / (100 × 0.99) = 58 080.80…, value 5.81M: still tier 2
        Isolated("buy", "100", "60000", "25", "240000", D(5750000) / D(99), "57600"),
        # long 40 @ 60 000 (2.4M, tier 2), 5x: M = 480 000. The tier-2 candidate
        # (2.4M − 480 000 − 10 000) / 39.6 = 48 232.32 is worth 1.93M, not tier 2; the tier-1
        # one (2.4M − 480 000) / (40 × 0.995) = 48 241.21 is worth 1.93M ≤ 2M: tier 1 holds it
        Isolated("buy", "40", "60000", "5", "480000", D(1920000) / D("39.8"), "48000"),
        # short 30 @ 60 000 (1.8M, tier 1), 5x: M = 360 000. Tier 1 gives
        # 2 160 000 / 30.15 = 71 641.79, worth 2.149M > 2M: no; tier 2 gives
        # (1.8M + 360 000 + 10 000) / (30 × 1.01) = 71 617.16, worth 2.1485M: yes
        Isolated("sell", "30", "60000", "5", "360000", D(2170000) / D("30.3"), "72000"),
    ],
)
def test_isolated_liquidation_and_bankruptcy_prices(case: Isolated) -> None:
    position = opened(case.side, case.qty, case.entry)
    position_margin = isolated_position_margin(position, D(case.leverage))
    assert position_margin == D(case.margin)
    assert same(isolated_liquidation_price(BTC, position, position_margin), case.liquidation)
    assert isolated_bankruptcy_price(position, position_margin) == D(case.bankruptcy)


def test_at_the_liquidation_price_margin_plus_pnl_equals_maintenance_margin() -> None:
    position = opened("sell", "30", "60000")
    margin = isolated_position_margin(position, D(5))
    price = isolated_liquidation_price(BTC, position, margin)
    assert price is not None
    equity = margin + position.unrealized_pnl(price)
    assert abs(equity - maintenance_margin(BTC, position.notional(price))) < D("1e-18")
    # ... and a mark exactly there liquidates, one tick better does not.
    holding = Holding(instrument=BTC, position=position, mark_price=price, position_margin=margin)
    assert check_liquidation([holding], MarginMode.ISOLATED, D(0)) is not None
    safer = Holding(
        instrument=BTC, position=position, mark_price=price - D("0.1"), position_margin=margin
    )
    assert check_liquidation([safer], MarginMode.ISOLATED, D(0)) is None


def test_on_a_tier_boundary_both_tiers_give_the_same_price_and_the_lower_tier_holds_it() -> None:
    # Short 40 @ 48 000 at 25x (M = 76 800) plus 13 200 added: M = 90 000.
    # Tier 1: (1 920 000 + 90 000) / (40 × 1.005) = 2 010 000 / 40.2 = 50 000, worth 2M exactly;
    # tier 2: (1 920 000 + 90 000 + 10 000) / (40 × 1.01) = 2 020 000 / 40.4 = 50 000 as well
    # (the deduction makes maintenance margin continuous at the boundary).
    short = opened("sell", "40", "48000")
    margin = isolated_position_margin(short, D(25), margin_added=D(13200))
    assert margin == D(90000)
    assert isolated_liquidation_price(BTC, short, margin) == D(50000)
    assert maintenance_margin(BTC, D(2000000)) == D(10000)  # 2M × 0.5 % = 2M × 1 % − 10 000


def test_a_long_at_1x_has_no_liquidation_or_bankruptcy_price() -> None:
    position = opened("buy", "1", "20000")
    margin = isolated_position_margin(position, D(1))
    assert isolated_liquidation_price(BTC, position, margin) is None
    assert isolated_bankruptcy_price(position, margin) is None


def test_a_flat_position_has_no_prices() -> None:
    flat = Position(symbol="BTCUSDT")
    assert isolated_liquidation_price(BTC, flat, D(100)) is None
    assert isolated_bankruptcy_price(flat, D(100)) is None


def test_adding_margin_moves_both_prices_away_from_the_entry() -> None:
    # Bybit's example shape: short 1 @ 20 000 at 50x, then 3 000 added. M = 400 + 3 000;
    # liq = (20 000 + 3 400) / 1.005 = 23 283.58…; bankrupt = 20 000 + 3 400 = 23 400.
    short = opened("sell", "1", "20000")
    margin = isolated_position_margin(short, D(50), margin_added=D(3000))
    assert margin == D(3400)
    assert same(isolated_liquidation_price(BTC, short, margin), D(23400) / D("1.005"))
    assert isolated_bankruptcy_price(short, margin) == D(23400)


def test_lowering_leverage_moves_the_long_liquidation_price_down() -> None:
    long = opened("buy", "1", "20000")
    prices = []
    for leverage in ("100", "50", "20", "10", "2"):
        price = isolated_liquidation_price(BTC, long, isolated_position_margin(long, D(leverage)))
        assert price is not None
        prices.append(price)
    # 100x: (20 000 − 200) / 0.995 = 19 899.50; 2x: 10 000 / 0.995 = 10 050.25
    assert same(prices[0], D(19800) / D("0.995"))
    assert same(prices[-1], D(10000) / D("0.995"))
    assert prices == sorted(prices, reverse=True)


def test_no_margin_tiers_is_an_error_that_says_so() -> None:
    from dataclasses import replace

    bare = replace(BTC, margin_tiers=())
    with pytest.raises(InstrumentRuleError, match="no margin tiers are known"):
        isolated_liquidation_price(bare, opened("buy", "1", "20000"), D(400))


# ------------------------------------------------------------------------------ cross


class Cross(NamedTuple):
    position: str
    wallet: str
    liquidation: Decimal
    bankruptcy: Decimal
    others_pnl: str = "0"
    others_mm: str = "0"


@pytest.mark.parametrize(
    "case",
    [
        # long 1 @ 20 000, wallet 1 000 alone:
        # liq = (20 000 − 1 000) / (1 − 0.005 − 0.00055) = 19 000 / 0.99445 = 19 106.04…
        # bankrupt: 1 000 + (p − 20 000) − p × 0.00055 = 0 → p = 19 000 / 0.99945 = 19 010.46…
        Cross("buy 1 @ 20000", "1000", D(19000) / D("0.99445"), D(19000) / D("0.99945")),
        # short 1 @ 20 000, wallet 1 000: liq = 21 000 / 1.00555 = 20 884.04…;
        # bankrupt = 21 000 / 1.00055 = 20 988.46…
        Cross("sell 1 @ 20000", "1000", D(21000) / D("1.00555"), D(21000) / D("1.00055")),
        # long again, an ETH position losing 200 and needing 50: buffer 1 000 − 200 − 50 = 750;
        # liq = 19 250 / 0.99445 = 19 357.43…; bankrupt (buffer 800) = 19 200 / 0.99945
        Cross(
            "buy 1 @ 20000",
            "1000",
            D(19250) / D("0.99445"),
            D(19200) / D("0.99945"),
            others_pnl="-200",
            others_mm="50",
        ),
        # long 40 @ 60 000 (2.4M, tier 2) on a wallet of 480 000: the tier-1 candidate
        # (2.4M − 480 000) / (40 × (1 − 0.005 − 0.00055)) = 1 920 000 / 39.778 = 48 268.9 is
        # worth 1.93M ≤ 2M: tier 1; bankrupt = 1 920 000 / (40 × 0.99945) = 48 026.41…
        Cross("buy 40 @ 60000", "480000", D(1920000) / D("39.778"), D(1920000) / D("39.978")),
        # short 30 @ 60 000 (1.8M, tier 1) on 360 000: tier 1 gives 2 160 000 / 30.1665 =
        # 71 602.6, worth 2.148M: not tier 1; tier 2 gives (1.8M + 360 000 + 10 000) /
        # (30 × 1.01055) = 71 578.0, worth 2.147M: tier 2. Bankrupt = 2 160 000 / 30.0165
        Cross("sell 30 @ 60000", "360000", D(2170000) / D("30.3165"), D(2160000) / D("30.0165")),
    ],
)
def test_cross_liquidation_and_bankruptcy_prices_hold_the_rest_constant(case: Cross) -> None:
    side, qty, _, entry = case.position.split()
    position = opened(side, qty, entry)
    wallet, others_pnl = D(case.wallet), D(case.others_pnl)
    price = cross_liquidation_price(
        BTC,
        position,
        wallet_balance=wallet,
        others_unrealized_pnl=others_pnl,
        others_maintenance_margin=D(case.others_mm),
    )
    assert same(price, case.liquidation)
    bankrupt = cross_bankruptcy_price(
        BTC, position, wallet_balance=wallet, others_unrealized_pnl=others_pnl
    )
    assert bankrupt == case.bankruptcy


def test_a_well_funded_cross_long_cannot_be_liquidated() -> None:
    # Wallet 25 000 behind 1 BTC bought at 20 000: equity stays positive down to zero.
    position = opened("buy", "1", "20000")
    assert cross_liquidation_price(BTC, position, wallet_balance=D(25000)) is None
    assert cross_bankruptcy_price(BTC, position, wallet_balance=D(25000)) is None


# ------------------------------------------------------------------------------ the check


def test_an_isolated_long_is_liquidated_at_and_below_its_liquidation_price_only() -> None:
    long = opened("buy", "1", "20000")
    margin = isolated_position_margin(long, D(50))
    liquidation = isolated_liquidation_price(BTC, long, margin)
    assert liquidation is not None
    assert same(liquidation, D(19600) / D("0.995"))  # 19 698.49…

    def at(mark: Decimal) -> Holding:
        return Holding(instrument=BTC, position=long, mark_price=mark, position_margin=margin)

    assert check_liquidation([at(D("19698.5"))], MarginMode.ISOLATED, D(0)) is None
    trigger = check_liquidation([at(liquidation)], MarginMode.ISOLATED, D(0))
    assert trigger is not None
    deep = check_liquidation([at(D(15000))], MarginMode.ISOLATED, D(0))
    assert deep is not None
    # Same takeover whatever the mark: at the bankruptcy price 19 600 (on the tick already),
    # fee 19 600 × 0.055 % = 10.78. The trader loses 400 + 10.78 = the position IM.
    assert (deep.bankruptcy_price, deep.liquidation_fee) == (D(19600), D("10.78"))
    assert (deep.liquidation_price, deep.size, deep.close_side) == (liquidation, D(1), Side.SELL)
    # Equity at 15 000: 400 − 5 000; maintenance margin 15 000 × 0.5 % = 75.
    assert (deep.equity, deep.maintenance_margin) == (D(-4600), D(75))


def test_an_isolated_short_takeover_price_rounds_down_to_the_tick_in_the_traders_favour() -> None:
    # Short 0.3 @ 20 000 at 7x: M = 6 000 / 7 = 857.142857…; bankrupt 20 000 + M / 0.3 =
    # 22 857.142857… → 22 857.1 on the 0.1 grid (the trader loses slightly less than M).
    short = opened("sell", "0.3", "20000")
    margin = isolated_position_margin(short, D(7))
    holding = Holding(instrument=BTC, position=short, mark_price=D(23000), position_margin=margin)
    trigger = check_liquidation([holding], MarginMode.ISOLATED, D(0))
    assert trigger is not None
    assert trigger.bankruptcy_price == D("22857.1")
    assert trigger.close_side is Side.BUY
    assert trigger.liquidation_fee == D("0.3") * D("22857.1") * D("0.00055")


def test_isolated_positions_are_checked_one_by_one() -> None:
    safe = Holding(
        instrument=ETH,
        position=opened("buy", "1", "2000", "ETHUSDT"),
        mark_price=D(1000),
        position_margin=D(2000),  # 1x: cannot be liquidated
    )
    doomed = Holding(
        instrument=BTC,
        position=opened("sell", "1", "20000"),
        mark_price=D(21000),
        position_margin=D(400),
    )
    flat = Holding(instrument=BTC, position=Position(symbol="BTCUSDT"), mark_price=D(1))
    trigger = check_liquidation([flat, safe, doomed], MarginMode.ISOLATED, D(0))
    assert trigger is not None
    assert trigger.symbol == "BTCUSDT"
    assert check_liquidation([flat, safe], MarginMode.ISOLATED, D(0)) is None


def test_cross_liquidation_compares_account_equity_with_all_requirements() -> None:
    long = opened("buy", "1", "20000")

    def check(mark: str) -> LiquidationTrigger | None:
        holding = Holding(instrument=BTC, position=long, mark_price=D(mark))
        return check_liquidation([holding], MarginMode.CROSS, D(1000))

    # At 19 106.1: equity 1 000 − 893.9 = 106.1; needs 19 106.1 × (0.5 % + 0.055 %) = 106.039…
    assert check("19106.1") is None
    # At 19 106: equity 106; needs 19 106 × 0.555 % = 106.0383 → liquidated.
    trigger = check("19106")
    assert trigger is not None
    assert (trigger.equity, trigger.maintenance_margin) == (D(106), D("106.0383"))
    # Bankrupt at 19 000 / 0.99945 = 19 010.4557…, taken over at 19 010.5 (rounded up for a long).
    assert trigger.bankruptcy_price == D("19010.5")
    assert trigger.liquidation_fee == D("19010.5") * D("0.00055")


def test_cross_takeover_leaves_zero_equity_and_takes_the_largest_requirement_first() -> None:
    btc = Holding(instrument=BTC, position=opened("buy", "1", "20000"), mark_price=D(19000))
    eth = Holding(
        instrument=ETH,
        position=opened("sell", "1", "2000", "ETHUSDT"),
        mark_price=D(1900),
    )
    # Wallet 1 000; U: BTC −1 000, ETH +100 → equity 100. Needs: BTC 95 + 10.45, ETH
    # 9.5 + 1.045 → 116 ≥ 100: liquidated, BTC first (the larger requirement).
    trigger = check_liquidation([eth, btc], MarginMode.CROSS, D(1000))
    assert trigger is not None
    assert trigger.symbol == "BTCUSDT"
    assert (trigger.equity, trigger.maintenance_margin) == (D(100), D("115.995"))
    # Bankrupt where 1 000 + 100 + (p − 20 000) − 0.00055 p = 0 → p = 18 900 / 0.99945 =
    # 18 910.40…, rounded up to 18 910.5; closing there leaves equity of dust ≥ 0.
    assert trigger.bankruptcy_price == D("18910.5")
    equity_after = (
        D(1000)
        + (trigger.bankruptcy_price - D(20000))
        - trigger.liquidation_fee
        + eth.position.unrealized_pnl(eth.mark_price)
    )
    assert D(0) <= equity_after < D("0.1")
    # The liquidation price of BTC, ETH held: buffer 1 000 + 100 − 10.545 = 1 089.455;
    # (20 000 − 1 089.455) / 0.99445
    assert same(trigger.liquidation_price, D("18910.545") / D("0.99445"))
