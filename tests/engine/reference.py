"""A plain reference backtest, written independently of the engine, to check it trade for trade.

The workload: EMA(20) / EMA(50) long-only cross on closes (EMAs from TA-Lib, not our kernels),
decided at a bar's close and filled at the next bar's open as a market order; 0.055 % taker fee
on every fill; each entry buys 95 % of the cash at the decision bar's close, rounded down to the
instrument's quantity step; an optional bracket: stop-loss and take-profit at a fraction of the
entry fill, rounded to the tick toward the entry, active from the entry bar on; within a bar the
stop is checked before the target, a gap through a level fills at the open. A position still
open after the last bar is closed at the last close. No funding, no slippage.

It is a simple loop over bars on floats, as short as it can be while saying all that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import talib
from numpy.typing import NDArray

FEE = 0.00055
SHARE = 0.95
STEP = 0.001
TICK = 0.1


@dataclass
class Trade:
    entry_bar: int
    entry_price: float
    qty: float
    exit_bar: int = -1
    exit_price: float = math.nan
    reason: str = ""


def _crosses(fast: NDArray[np.float64], slow: NDArray[np.float64]) -> tuple[list[bool], ...]:
    above, below = [False] * len(fast), [False] * len(fast)
    for t in range(1, len(fast)):
        if any(math.isnan(v) for v in (fast[t], slow[t], fast[t - 1], slow[t - 1])):
            continue
        above[t] = fast[t] > slow[t] and fast[t - 1] <= slow[t - 1]
        below[t] = fast[t] < slow[t] and fast[t - 1] >= slow[t - 1]
    return above, below


def _tick(price: float, up: bool) -> float:
    ticks = price / TICK
    return round((math.ceil(ticks - 1e-9) if up else math.floor(ticks + 1e-9)) * TICK, 10)


def reference_backtest(
    bars: NDArray[np.float64], cash: float, stop: float | None = None, target: float | None = None
) -> tuple[list[Trade], float]:
    """The trades and the final cash of the workload described in the module docstring."""
    o, h, lo, c = bars[:, 1], bars[:, 2], bars[:, 3], bars[:, 4]
    above, below = _crosses(talib.EMA(c, 20), talib.EMA(c, 50))
    trades: list[Trade] = []
    pending: str | None = None
    open_trade: Trade | None = None
    order_qty = 0.0

    def close(t: int, price: float, reason: str) -> None:
        nonlocal cash, open_trade
        assert open_trade is not None
        cash += open_trade.qty * (price - open_trade.entry_price) - open_trade.qty * price * FEE
        open_trade.exit_bar, open_trade.exit_price, open_trade.reason = t, price, reason
        open_trade = None

    for t in range(len(bars)):
        if pending == "enter":
            open_trade = Trade(t, o[t], order_qty)
            trades.append(open_trade)
            cash -= order_qty * o[t] * FEE
        elif pending == "exit" and open_trade is not None:
            close(t, o[t], "signal")
        pending = None
        if open_trade is not None and (stop is not None or target is not None):
            entry = open_trade.entry_price
            sl = _tick(entry * (1 - stop), up=True) if stop is not None else -math.inf
            tp = _tick(entry * (1 + target), up=False) if target is not None else math.inf
            if o[t] <= sl:
                close(t, o[t], "stop_loss")
            elif lo[t] <= sl:
                close(t, sl, "stop_loss")
            elif o[t] >= tp:
                close(t, o[t], "take_profit")
            elif h[t] >= tp:
                close(t, tp, "take_profit")
        if open_trade is None and above[t]:
            order_qty = math.floor(SHARE * cash / c[t] / STEP + 1e-9) * STEP
            pending = "enter" if order_qty > 0 else None
        elif open_trade is not None and below[t]:
            pending = "exit"
    if open_trade is not None:
        close(len(bars) - 1, c[-1], "end_of_data")
    return trades, cash
