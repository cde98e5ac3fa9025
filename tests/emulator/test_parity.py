"""For the same bars and the same orders, the emulator's fills are the backtester's fills.

The backtester drives the simulated exchange in long spans (``advance`` returns at the first bar
with an order event, as :func:`tradeplay.engine.backtest.run_backtest` does); the emulator
drives one simulator per account bar by bar and takes its orders over HTTP in Bybit's words.
The fills — price, quantity, side, fee, maker or taker, time — and the funding payments must
be identical, and so must the final wallet.
"""

from __future__ import annotations

from decimal import Decimal

from tests.emulator.conftest import HISTORY_BARS, Signed, wave_candles
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, OrderType, Side, format_decimal, utc_from_ms
from tradeplay.emulator import EmulatorThread
from tradeplay.features.compute import bar_matrix
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange

BASE = {"category": "linear", "symbol": "BTCUSDT"}

# (bar after whose close the order is sent, Bybit create body, the same order for the simulator)
SCRIPT: list[tuple[int, dict[str, object], dict[str, object]]] = [
    (
        HISTORY_BARS,
        {
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.05",
            "stopLoss": "58000",
            "takeProfit": "60400",
        },
        {
            "side": Side.BUY,
            "order_type": OrderType.MARKET,
            "qty": Decimal("0.05"),
            "protection": Protection(
                Level(LevelKind.PRICE, Decimal(58000)), Level(LevelKind.PRICE, Decimal(60400))
            ),
        },
    ),
    (
        HISTORY_BARS + 3,
        {"side": "Sell", "orderType": "Limit", "qty": "0.02", "price": "60300", "reduceOnly": True},
        {
            "side": Side.SELL,
            "order_type": OrderType.LIMIT,
            "qty": Decimal("0.02"),
            "price": Decimal(60300),
            "reduce_only": True,
        },
    ),
    (
        HISTORY_BARS + 40,
        {
            "side": "Sell",
            "orderType": "Market",
            "qty": "0.04",
            "triggerPrice": "59700",
            "triggerDirection": 2,
        },
        {
            "side": Side.SELL,
            "order_type": OrderType.STOP_MARKET,
            "qty": Decimal("0.04"),
            "trigger_price": Decimal(59700),
        },
    ),
    (
        HISTORY_BARS + 90,
        {
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.04",
            "price": "59500",
            "timeInForce": "PostOnly",
        },
        {
            "side": Side.BUY,
            "order_type": OrderType.LIMIT,
            "qty": Decimal("0.04"),
            "price": Decimal(59500),
            "time_in_force": "post_only",
        },
    ),
]
END = HISTORY_BARS + 200


def backtester_fills() -> tuple[list[tuple[str, ...]], Decimal]:
    bars = bar_matrix(wave_candles())
    exchange = SimulatedExchange(
        bybit_linear("BTCUSDT"),
        SimConfig(
            starting_cash=Decimal(10_000),
            timeframe=Timeframe.parse("1m"),
            funded_at=utc_from_ms(int(bars[0, 0])),
        ),
    )
    i = 0
    for number, (bar, _, order) in enumerate(SCRIPT):
        while i < bar:
            i = exchange.advance(bars, i, bar).end
        fields = dict(order)
        if "time_in_force" in fields:
            from tradeplay.domain.values import TimeInForce

            fields["time_in_force"] = TimeInForce(str(fields["time_in_force"]))
        events = exchange.submit(
            OrderSubmitted(
                client_order_id=ClientOrderId(f"bt-{number}"),
                time=exchange.now,
                symbol="BTCUSDT",
                **fields,
            )  # type: ignore[arg-type]
        )
        assert type(events[0]).__name__ == "OrderAccepted", events
    while i < END:
        i = exchange.advance(bars, i, END).end
    fills = [
        (
            format_decimal(f.price),
            format_decimal(f.qty),
            f.side.value.title(),
            format_decimal(f.fee),
            str(f.liquidity == "maker"),
            str(int(f.time.timestamp() * 1000)),
        )
        for f in exchange.fills()
    ]
    return fills, exchange.account().wallet_balance


def test_the_emulator_fills_exactly_as_the_backtester(
    handle: EmulatorThread, signed: Signed
) -> None:
    at = HISTORY_BARS
    for bar, body, _ in SCRIPT:
        handle.step(bar - at)
        at = bar
        answer = signed.post("/v5/order/create", {**BASE, **body})
        assert answer["retCode"] == 0, answer
    handle.step(END - at)
    rows = signed.get(
        "/v5/execution/list", "category=linear&symbol=BTCUSDT&execType=Trade&limit=100"
    )
    emulated = [
        (r["execPrice"], r["execQty"], r["side"], r["execFee"], str(r["isMaker"]), r["execTime"])
        for r in reversed(rows["result"]["list"])
    ]
    expected, wallet = backtester_fills()
    assert len(expected) >= 4  # entry, partial target, protection / stop, re-entry
    assert emulated == expected
    balance = signed.get("/v5/account/wallet-balance", "accountType=UNIFIED")
    assert Decimal(balance["result"]["list"][0]["totalWalletBalance"]) == round(wallet, 8)
