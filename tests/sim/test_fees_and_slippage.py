"""Fee tiers and slippage models: the numbers a fill is charged with."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.sim.scenarios import Scenario, config
from tradeplay.domain.errors import ConfigError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import Liquidity, Side
from tradeplay.sim.fees import BYBIT_FEE_TIERS, FeeSchedule
from tradeplay.sim.slippage import FixedBps, VolumeShare, slipped_price

BTC = bybit_linear("BTCUSDT")


@pytest.mark.parametrize(
    ("tier", "maker", "taker"),
    [("VIP0", "0.0002", "0.00055"), ("vip3", "0.00014", "0.00035"), ("SUPREME", "0", "0.0003")],
)
def test_bybit_tiers_are_percentages_turned_into_fractions(
    tier: str, maker: str, taker: str
) -> None:
    schedule = FeeSchedule.bybit(tier)
    assert (schedule.maker, schedule.taker) == (Decimal(maker), Decimal(taker))


def test_the_default_is_the_base_tier_and_unknown_tiers_are_named() -> None:
    assert FeeSchedule.bybit() == BYBIT_FEE_TIERS["VIP0"]
    with pytest.raises(ConfigError, match="unknown Bybit fee tier 'VIP9'; known tiers: VIP0"):
        FeeSchedule.bybit("VIP9")


def test_a_fee_is_qty_times_price_times_the_rate_of_its_liquidity() -> None:
    schedule = FeeSchedule.bybit()
    assert schedule.fee(Decimal("0.5"), Decimal(20000), Liquidity.TAKER) == Decimal("5.5")
    assert schedule.fee(Decimal("0.5"), Decimal(20000), Liquidity.MAKER) == Decimal("2")
    rebate = FeeSchedule.custom(Decimal("-0.0001"), Decimal("0.0003"))
    assert rebate.fee(Decimal(1), Decimal(100), Liquidity.MAKER) == Decimal("-0.01")


def test_volume_share_follows_the_square_root_law() -> None:
    """k = 0.001 (10 bps to trade the bar's whole volume): 1 % of the volume costs 1 bp."""
    model = VolumeShare(Decimal("0.001"))
    assert model.fraction(Decimal(1), 100.0) == Decimal("0.0001")
    assert model.fraction(Decimal(4), 100.0) == Decimal("0.0002")
    linear = VolumeShare(Decimal("0.001"), exponent=1.0)
    assert linear.fraction(Decimal(1), 100.0) == Decimal("0.00001")


def test_volume_share_is_capped_and_a_bar_without_volume_costs_the_cap() -> None:
    model = VolumeShare(Decimal(1), max_bps=Decimal(50))
    assert model.fraction(Decimal(1000), 1.0) == Decimal("0.005")
    assert model.fraction(Decimal(1), 0.0) == Decimal("0.005")


def test_slippage_moves_against_the_trader_and_rounds_against_them_too() -> None:
    assert slipped_price(BTC, Decimal("100.0"), Side.BUY, Decimal("0.0004")) == Decimal("100.1")
    assert slipped_price(BTC, Decimal("100.0"), Side.SELL, Decimal("0.0004")) == Decimal("99.9")
    assert slipped_price(BTC, Decimal("100.0"), Side.BUY, Decimal(0)) == Decimal("100.0")


def test_maker_fills_have_no_slippage_and_a_limit_caps_a_taker_fill() -> None:
    scenario = Scenario(
        [(100, 101, 99, 100), (100, 100.5, 98, 99)], config(slippage=FixedBps(Decimal(50)))
    )
    scenario.order("maker", "buy", "limit", qty="0.1", price="99")
    scenario.order("taker", "buy", "limit", qty="0.1", price="100.2")  # open 100 + 50 bps = 100.5
    scenario.finish()
    assert [(f[1], f[4], f[6]) for f in scenario.fills()] == [
        ("taker", "100.2", "taker"),
        ("maker", "99", "maker"),
    ]


def test_volume_share_slippage_grows_with_the_order() -> None:
    rows = [(100, 101, 99, 100), (100, 101, 99, 100, 100)]
    prices = []
    for qty in ("0.1", "1", "10"):
        scenario = Scenario(rows, config(slippage=VolumeShare(Decimal("0.01"))))
        scenario.order("m", "buy", qty=qty)
        scenario.finish()
        prices.append(scenario.fills()[0][4])
    assert prices == ["100.1", "100.1", "100.4"]  # 3.2 bps → tick, 10 bps, 31.6 bps
