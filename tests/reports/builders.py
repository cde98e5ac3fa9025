"""Small builders for report tests: trades, fills, orders and whole runs with sensible defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    OrderId,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TradeId,
)
from tradeplay.reports.model import DataLabel, EquityCurve, RunResult, TradeRecord

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def trade(
    net: str | int,
    *,
    side: str = "long",
    entry: str = "100",
    qty: str = "1",
    fees: str = "0",
    funding: str = "0",
    opened: timedelta = timedelta(0),
    held: timedelta = timedelta(hours=1),
    reason: str = "signal",
    mae: str = "0",
    mfe: str = "0",
) -> TradeRecord:
    """A trade with net PnL ``net``; the exit price is whatever makes the gross PnL add up."""
    gross = D(net) + D(fees) + D(funding)
    move = gross / D(qty)
    exit_price = D(entry) + move if side == "long" else D(entry) - move
    return TradeRecord(
        symbol="BTCUSDT",
        side=PositionSide(side),
        entry_time=T0 + opened,
        exit_time=T0 + opened + held,
        entry_price=D(entry),
        exit_price=exit_price,
        qty=D(qty),
        gross_pnl=gross,
        fees=D(fees),
        funding=D(funding),
        net_pnl=D(net),
        mae_price=D(mae),
        mae_pct=float(D(mae) / D(entry)),
        mfe_price=D(mfe),
        mfe_pct=float(D(mfe) / D(entry)),
        bars_held=int(held / timedelta(hours=1)),
        exit_reason=reason,
    )


def fill(
    number: int,
    side: str = "buy",
    qty: str = "1",
    price: str = "100",
    *,
    fee: str = "0.06",
    ms: int = 0,
    symbol: str = "BTCUSDT",
) -> Fill:
    return Fill(
        trade_id=TradeId(f"t-{number}"),
        order_id=OrderId(f"o-{number}"),
        client_order_id=ClientOrderId(f"c-{number}"),
        symbol=symbol,
        side=Side(side),
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        time=T0 + timedelta(milliseconds=ms),
    )


def filled_order(source: Fill) -> Order:
    """The market order that ``source`` filled completely."""
    return Order(
        client_order_id=ClientOrderId(str(source.client_order_id)),
        symbol=source.symbol,
        side=source.side,
        order_type=OrderType.MARKET,
        qty=source.qty,
        price=None,
        trigger_price=None,
        time_in_force=TimeInForce.IOC,
        reduce_only=False,
        created_at=source.time,
        updated_at=source.time,
        status=OrderStatus.FILLED,
        order_id=source.order_id,
        filled_qty=source.qty,
        filled_value=source.value,
        fees=source.fee,
    )


def ramp_bars(count: int, timeframe: Timeframe, start_ms: int = T0_MS) -> Candles:
    """Bars rising by 0.01 % a bar, each 1 % high and low around its close."""
    close = 100.0 * 1.0001 ** np.arange(count, dtype=np.float64)
    open_ = np.concatenate(([100.0], close[:-1]))[:count]
    return Candles.from_columns(
        ts=start_ms + timeframe.ms * np.arange(count, dtype=np.int64),
        open=open_,
        high=np.maximum(open_, close) * 1.01,
        low=np.minimum(open_, close) * 0.99,
        close=close,
        volume=np.full(count, 5.0),
    )


def run(
    equity: Sequence[float] | NDArray[np.float64],
    *,
    timeframe: str = "1h",
    capital: str = "100",
    position_value: Sequence[float] | NDArray[np.float64] | None = None,
    trades: Sequence[TradeRecord] = (),
    fills: Sequence[Fill] = (),
    generated: bool = False,
    overlays: Mapping[str, NDArray[np.float64]] | None = None,
    config: Mapping[str, Any] | None = None,
    start_ms: int = T0_MS,
) -> RunResult:
    """A run over ``len(equity)`` ramp bars; cash follows equity, flat unless told otherwise."""
    tf = Timeframe.parse(timeframe)
    values = np.asarray(equity, dtype=np.float64)
    bars = ramp_bars(len(values), tf, start_ms)
    exposure = np.zeros(len(values)) if position_value is None else position_value
    start = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    return RunResult(
        play="ema-cross",
        symbol="BTCUSDT",
        timeframe=tf,
        start=start,
        end=start + timedelta(milliseconds=tf.ms * len(values)),
        starting_capital=D(capital),
        data=DataLabel("generated sample market (seed 7)", True)
        if generated
        else DataLabel("download: bybit", False),
        config=config if config is not None else {"fast": 12, "slow": 26, "fee_rate": D("0.00055")},
        trades=tuple(trades),
        orders=tuple(filled_order(each) for each in fills),
        fills=tuple(fills),
        equity=EquityCurve.from_columns(
            ts=bars.ts, equity=values, cash=values, position_value=exposure
        ),
        bars=bars,
        overlays=dict(overlays or {}),
        fees_total=sum((each.fee for each in fills), D(0)),
        funding_total=D("0.5") if fills else D(0),
    )
