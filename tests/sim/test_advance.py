"""``advance``: the exchange's clock. Quiet spans pass in one step, events stop it."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.sim.scenarios import SYMBOL, Scenario, bars, config
from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.ports import Exchange
from tradeplay.sim.exchange import SimulatedExchange

FLAT = (100, 101, 99, 100)


def test_the_simulated_exchange_is_an_exchange() -> None:
    assert isinstance(SimulatedExchange(bybit_linear(SYMBOL)), Exchange)


def test_a_quiet_span_passes_in_one_call_with_its_equity_curve() -> None:
    scenario = Scenario([FLAT] * 6)
    result = scenario.exchange.advance(scenario.bars, 1, 6)
    assert (result.end, result.events, result.funding) == (6, (), ())
    assert np.array_equal(result.equity, np.full(5, 10_000.0))


def test_advance_returns_at_the_first_bar_with_an_event() -> None:
    rows = [FLAT, FLAT, FLAT, (100, 101, 97, 98), FLAT, (100, 101, 95, 96)]
    scenario = Scenario(rows)
    scenario.order("a", "buy", "limit", price="97.5")
    scenario.order("b", "buy", "limit", price="95.5")
    first = scenario.exchange.advance(scenario.bars, 1, 6)
    assert (first.end, first.bar, len(first.equity)) == (4, 3, 3)
    assert [e.client_order_id for e in first.events] == ["a"]
    second = scenario.exchange.advance(scenario.bars, first.end, 6)
    assert (second.end, [e.client_order_id for e in second.events]) == (6, ["b"])
    # Long 1 from 97.5 (maker fee 0.0195), marked at bar 3's close 98 and bar 4's close 100.
    assert second.equity[0] == pytest.approx(10_000 - 0.0195 + 2.5)


def test_advance_can_run_through_events_to_its_stop() -> None:
    rows = [FLAT, FLAT, FLAT, (100, 101, 97, 98), FLAT, (100, 101, 95, 96)]
    scenario = Scenario(rows)
    scenario.order("a", "buy", "limit", price="97.5")
    scenario.order("b", "buy", "limit", price="95.5")
    result = scenario.exchange.advance(scenario.bars, 1, 6, through_events=True)
    assert (result.end, [e.client_order_id for e in result.events]) == (6, ["a", "b"])
    # Flat, then long 1 from 97.5 (maker fee 0.0195), then long 2 (second fee 0.0191).
    assert np.allclose(
        result.equity,
        [10_000, 10_000, 10_000 - 0.0195 + 0.5, 10_000 - 0.0195 + 2.5, 10_000 - 0.0386 - 1.5 + 0.5],
    )


def test_equity_follows_the_position_through_a_quiet_span() -> None:
    rows = [FLAT, FLAT, (100, 102, 99, 101), (101, 103, 100, 102.5)]
    scenario = Scenario(rows)
    scenario.order("m", "buy")
    scenario.exchange.advance(scenario.bars, 1, 2)  # filled at 100, fee 0.055
    result = scenario.exchange.advance(scenario.bars, 2, 4)
    assert np.allclose(result.equity, [10_000 - 0.055 + 1, 10_000 - 0.055 + 2.5])


def test_the_clock_never_goes_back() -> None:
    scenario = Scenario([FLAT, FLAT, FLAT])
    scenario.step()
    with pytest.raises(InputError, match="the exchange clock cannot go back"):
        scenario.exchange.advance(scenario.bars, 1, 2)


@pytest.mark.parametrize(
    ("matrix", "start", "stop", "problem"),
    [
        (np.zeros((3, 5)), 0, 1, "must be a float64 matrix"),
        (np.zeros((3, 6), dtype=np.float32), 0, 1, "must be a float64 matrix"),
        (bars([FLAT, FLAT]), 1, 1, "are not a span"),
        (bars([FLAT, FLAT]), 0, 3, "are not a span"),
    ],
)
def test_bad_spans_are_refused(matrix: np.ndarray, start: int, stop: int, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        SimulatedExchange(bybit_linear(SYMBOL)).advance(matrix, start, stop)


def test_views_answer_for_the_traded_symbol_only() -> None:
    exchange = SimulatedExchange(bybit_linear(SYMBOL))
    assert exchange.position(SYMBOL).is_flat
    assert exchange.open_orders("ETHUSDT") == ()
    assert exchange.account().wallet_balance == Decimal(10_000)
    with pytest.raises(InputError, match="ETHUSDT is not traded here"):
        exchange.position("ETHUSDT")


def test_the_account_uses_the_configured_fee_tier_everywhere() -> None:
    from tradeplay.sim.fees import FeeSchedule

    exchange = SimulatedExchange(bybit_linear(SYMBOL), config(fees=FeeSchedule.bybit("VIP2")))
    assert exchange.instrument(SYMBOL).taker_fee_rate == Decimal("0.000375")
