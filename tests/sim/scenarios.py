"""A small driver for simulated-exchange scenarios: candles in, orders in, events out.

Bars are written as ``(open, high, low, close)`` or with a volume, one minute apart from
2025-03-01 09:00 UTC (between funding settlements). Bar 0 is processed when the scenario
starts, so the exchange has a last price (bar 0's close) when the first orders arrive — just as
a strategy sends orders after a bar closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderFilled, OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.protection import Protection
from tradeplay.domain.values import (
    ClientOrderId,
    OrderType,
    Side,
    TimeInForce,
    format_decimal,
    utc_from_ms,
)
from tradeplay.ports import TradingStop
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.funding import FundingSource

T0 = 1_740_819_600_000  # 2025-03-01 09:00 UTC
MINUTE = 60_000
SYMBOL = "BTCUSDT"
NO_FUNDING = FundingSource.constant(Decimal(0), timedelta(hours=8))


def bars(
    rows: Sequence[Sequence[float]], start: int = T0, step: int = MINUTE
) -> NDArray[np.float64]:
    """A bar matrix from ``(o, h, l, c)`` or ``(o, h, l, c, volume)`` rows (volume 1000)."""
    matrix = [
        [start + k * step, *row, *([1000.0] if len(row) == 4 else [])] for k, row in enumerate(rows)
    ]
    return np.array(matrix, dtype=np.float64)


def config(**changes: Any) -> SimConfig:
    """Scenario defaults: 10 000 USDT, 10x cross, Bybit base fees, no slippage, no funding."""
    return SimConfig(funding=NO_FUNDING, **changes)


@dataclass
class Scenario:
    """An exchange fed ``rows`` one bar at a time, collecting ``(bar, event)`` pairs."""

    rows: Sequence[Sequence[float]]
    settings: SimConfig = field(default_factory=config)
    minutes: NDArray[np.float64] | None = None
    step_ms: int = MINUTE

    def __post_init__(self) -> None:
        self.bars = bars(self.rows, step=self.step_ms)
        self.exchange = SimulatedExchange(bybit_linear(SYMBOL), self.settings)
        self.log: list[tuple[int, OrderEvent]] = []
        self.next_bar = 0
        self.step()

    # ---------------------------------------------------------------- instructions

    def order(
        self,
        cid: str,
        side: str,
        kind: str = "market",
        qty: str = "1",
        *,
        price: str | None = None,
        trigger: str | None = None,
        tif: str = "gtc",
        reduce_only: bool = False,
        protection: Protection | None = None,
    ) -> tuple[OrderEvent, ...]:
        """Send an order now (after the last bar processed); returns the exchange's answer."""
        event = OrderSubmitted(
            client_order_id=ClientOrderId(cid),
            time=utc_from_ms(int(self.bars[self.next_bar - 1, 0]) + self.step_ms),
            symbol=SYMBOL,
            side=Side(side),
            order_type=OrderType(kind),
            qty=Decimal(qty),
            price=None if price is None else Decimal(price),
            trigger_price=None if trigger is None else Decimal(trigger),
            time_in_force=TimeInForce(tif),
            reduce_only=reduce_only,
            protection=protection,
        )
        answer = tuple(self.exchange.submit(event))
        self.log.extend((self.next_bar - 1, e) for e in answer)
        return answer

    def protect(self, **prices: str) -> None:
        """``set_trading_stop`` with prices as text (``take_profit="105"`` …)."""
        given = {name: Decimal(value) for name, value in prices.items()}
        self.exchange.set_trading_stop(TradingStop(symbol=SYMBOL, **given))

    def step(self, count: int = 1) -> None:
        """Process the next ``count`` bars one at a time (the live path)."""
        for _ in range(count):
            i = self.next_bar
            result = self.exchange.advance(self.bars, i, i + 1, minutes=self.minutes)
            assert result.end == i + 1
            self.log.extend((i, e) for e in result.events)
            self.next_bar += 1

    def finish(self) -> None:
        self.step(len(self.bars) - self.next_bar)

    # ---------------------------------------------------------------- what happened

    def fills(self) -> list[tuple[int, str, str, str, str, str, str]]:
        """``(bar, client id, side, qty, price, fee, liquidity)`` of every fill, as text."""
        return [
            (
                bar,
                e.client_order_id,
                e.fill.side.value,
                format_decimal(e.fill.qty),
                format_decimal(e.fill.price),
                format_decimal(e.fill.fee),
                e.fill.liquidity.value,
            )
            for bar, e in self.log
            if isinstance(e, OrderFilled)
        ]

    def happenings(self) -> list[tuple[int, str, str]]:
        """``(bar, event type, client id)`` of every event but fills."""
        return [
            (bar, type(e).__name__, e.client_order_id)
            for bar, e in self.log
            if not isinstance(e, OrderFilled)
        ]

    def reasons(self) -> list[str]:
        return [str(getattr(e, "reason", "")) for _, e in self.log if getattr(e, "reason", "")]

    @property
    def size(self) -> str:
        return format_decimal(self.exchange.position(SYMBOL).size)

    @property
    def wallet(self) -> Decimal:
        return self.exchange.account().wallet_balance
