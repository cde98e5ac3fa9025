"""The run model refuses inconsistent input with a message that names the problem."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from tests.reports.builders import T0, run, trade
from tradeplay.domain.errors import InputError
from tradeplay.domain.values import PositionSide
from tradeplay.reports.model import EquityCurve

D = Decimal


def test_net_pnl_must_be_gross_minus_fees_minus_funding() -> None:
    good = trade("10", fees="0.5", funding="0.25")
    assert good.gross_pnl == D("10.75")
    with pytest.raises(InputError, match=r"net_pnl 10 != gross_pnl 10\.75"):
        dataclasses.replace(good, fees=D("0.4"))


def test_a_trade_knows_its_return_on_entry_notional_and_its_holding_time() -> None:
    record = trade("5", entry="200", qty="0.5", held=timedelta(hours=3))
    assert record.entry_notional == D(100)
    assert record.return_pct == 0.05
    assert record.holding_time == timedelta(hours=3)
    assert record.is_win
    assert not record.is_loss
    assert not trade("0").is_win
    assert not trade("0").is_loss


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"side": PositionSide.FLAT}, "not flat"),
        ({"exit_time": T0 - timedelta(hours=1)}, "before the entry"),
        ({"qty": D(0)}, "must be positive"),
        ({"mae_price": D(-1)}, "must not be negative"),
        ({"bars_held": -1}, "bars_held"),
        ({"exit_reason": ""}, "exit_reason"),
        ({"entry_time": datetime(2024, 1, 1)}, "no timezone"),  # noqa: DTZ001 - on purpose
    ],
)
def test_a_malformed_trade_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        dataclasses.replace(trade("1"), **change)  # type: ignore[arg-type]


def test_the_equity_curve_needs_one_point_per_bar_at_the_bars_times() -> None:
    result = run([100.0, 101.0, 102.0])
    shifted = EquityCurve.from_columns(
        ts=result.bars.ts + 1, equity=[1.0] * 3, cash=[1.0] * 3, position_value=[0.0] * 3
    )
    with pytest.raises(InputError, match="one point per bar"):
        dataclasses.replace(result, equity=shifted)


def test_equity_columns_are_read_only_and_checked() -> None:
    curve = run([100.0, 101.0]).equity
    with pytest.raises(ValueError, match="read-only"):
        curve.equity[0] = 5.0
    with pytest.raises(InputError, match="strictly increasing"):
        EquityCurve.from_columns(ts=[2, 1], equity=[1, 1], cash=[1, 1], position_value=[0, 0])
    with pytest.raises(InputError, match="differ in length"):
        EquityCurve.from_columns(ts=[1, 2], equity=[1], cash=[1, 1], position_value=[0, 0])
    with pytest.raises(InputError, match="NaN"):
        EquityCurve.from_columns(ts=[1], equity=[np.nan], cash=[1], position_value=[0])


def test_overlays_must_match_the_bars() -> None:
    result = run([100.0, 101.0])
    with pytest.raises(InputError, match="overlay ema has 3 values for 2 bars"):
        dataclasses.replace(result, overlays={"ema": np.zeros(3)})


def test_run_times_must_be_utc_and_capital_positive() -> None:
    result = run([100.0])
    with pytest.raises(InputError, match="starting capital"):
        dataclasses.replace(result, starting_capital=D(0))
    with pytest.raises(InputError, match="not in UTC"):
        dataclasses.replace(result, start=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))))


def test_equity_curves_compare_by_value() -> None:
    assert run([100.0, 101.0]).equity == run([100.0, 101.0]).equity
    assert run([100.0, 101.0]).equity != run([100.0, 102.0]).equity
