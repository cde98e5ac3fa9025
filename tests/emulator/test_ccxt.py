"""ccxt 4.5.90 (``ccxt.pro.bybit``, asyncio) trades against the emulator as against Bybit."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from tests.emulator.conftest import KEY, SECRET
from tests.emulator.waiting import subscribed
from tradeplay.emulator import EmulatorThread


def exchange(handle: EmulatorThread, key: str = KEY, secret: str = SECRET) -> Any:
    """ccxt pointed at the emulator with the options the client report recommends."""
    base, wsb = handle.url, handle.ws_url
    ex = ccxtpro.bybit(
        {
            "apiKey": key,
            "secret": secret,
            # ccxt's own throttle (1 cancel-all per second) only slows the test down; the
            # emulator's limits are tested on their own.
            "enableRateLimit": False,
            "urls": {
                "api": {
                    "public": base,
                    "private": base,
                    "spot": base,
                    "futures": base,
                    "v2": base,
                    "ws": {
                        "public": {
                            k: f"{wsb}/v5/public/{k}"
                            for k in ("spot", "linear", "inverse", "option")
                        },
                        "private": {
                            "contract": f"{wsb}/v5/private",
                            "usdc": f"{wsb}/v5/private",
                            "spot": {
                                "unified": f"{wsb}/v5/private",
                                "nonUnified": f"{wsb}/v5/private",
                            },
                            "trade": f"{wsb}/v5/trade",
                        },
                    },
                }
            },
            "options": {
                "defaultType": "swap",
                "defaultSubType": "linear",
                "fetchMarkets": {"types": ["linear"]},
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
            },
        }
    )
    ex.has["fetchCurrencies"] = False
    return ex


SYMBOL = "BTC/USDT:USDT"


async def _trade(handle: EmulatorThread) -> None:
    ex = exchange(handle)
    try:
        await ex.load_markets()
        assert ex.market(SYMBOL)["precision"]["amount"] == 0.001
        assert await ex.fetch_time() > 0
        bars = await ex.fetch_ohlcv(SYMBOL, "1m", limit=5)
        assert len(bars) == 5
        assert bars[0][0] < bars[-1][0]  # ccxt re-sorts oldest first
        ticker = await ex.fetch_ticker(SYMBOL)
        assert ticker["last"] == bars[-1][4]
        balance = await ex.fetch_balance()
        assert balance["USDT"]["total"] == 10_000
        await ex.set_leverage(5, SYMBOL)

        # Subscribe, then place an order and let the next bar fill it.
        watchers = {
            "ohlcv": asyncio.ensure_future(ex.watch_ohlcv(SYMBOL, "1m")),
            "orders": asyncio.ensure_future(ex.watch_orders(SYMBOL)),
            "trades": asyncio.ensure_future(ex.watch_my_trades(SYMBOL)),
            "balance": asyncio.ensure_future(ex.watch_balance()),
        }
        for topic in ("kline.1.BTCUSDT", "order", "execution", "wallet"):
            await asyncio.to_thread(subscribed, handle, topic)
        order = await ex.create_order(
            SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "cli-1"}
        )
        assert (order["clientOrderId"], order["status"]) == ("cli-1", None)  # an ack only
        await asyncio.to_thread(handle.step)
        answers = await asyncio.wait_for(asyncio.gather(*watchers.values()), 5)
        results = dict(zip(watchers, answers, strict=True))
        assert results["ohlcv"][-1][0] == bars[-1][0] + 60_000
        assert results["orders"][-1]["id"] == order["id"]
        trade = results["trades"][-1]
        assert (trade["order"], trade["amount"], trade["side"]) == (order["id"], 0.01, "buy")
        assert results["balance"]["USDT"]["total"] < 10_000  # the taker fee was paid

        # watch_positions answers its first call from REST, and subscribes on the next.
        assert (await ex.watch_positions([SYMBOL]))[0]["contracts"] == 0.01
        second = asyncio.ensure_future(ex.watch_positions([SYMBOL]))
        await asyncio.to_thread(subscribed, handle, "position")
        limit = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000)
        positions = await asyncio.wait_for(second, 5)
        assert positions[0]["entryPrice"] == trade["price"]

        edited = await ex.edit_order(limit["id"], SYMBOL, "limit", "buy", 0.02, 50_100)
        assert edited["id"] == limit["id"]
        open_orders = await ex.fetch_open_orders(SYMBOL)
        assert [(o["id"], o["price"], o["amount"]) for o in open_orders] == [
            (limit["id"], 50_100, 0.02)
        ]
        fetched = await ex.fetch_order(order["id"], SYMBOL, {"acknowledged": True})
        assert (fetched["status"], fetched["average"]) == ("closed", trade["price"])
        await ex.cancel_order(limit["id"], SYMBOL)
        assert await ex.fetch_open_orders(SYMBOL) == []
        await ex.cancel_all_orders(SYMBOL)
        assert [t["id"] for t in await ex.fetch_my_trades(SYMBOL)] == [trade["id"]]
        held = await ex.fetch_positions([SYMBOL])
        assert (held[0]["side"], held[0]["contracts"]) == ("long", 0.01)
        with pytest.raises(ccxt.BadRequest, match="110043"):
            await ex.set_leverage(5, SYMBOL)  # unchanged: Bybit's 110043, which ccxt raises
    finally:
        await ex.close()


def test_ccxt_trades_and_streams_against_the_emulator(handle: EmulatorThread) -> None:
    asyncio.run(_trade(handle))


async def _errors(handle: EmulatorThread) -> None:
    bad = exchange(handle, secret="wrong")
    unknown = exchange(handle, key="nobody")
    ex = exchange(handle)
    try:
        await ex.load_markets()
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await bad.fetch_balance()
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await unknown.fetch_balance()
        with pytest.raises(ccxt.InvalidOrder, match="110094"):
            await ex.create_order(SYMBOL, "limit", "buy", 0.001, 1_000)
        with pytest.raises(ccxt.OrderNotFound, match="110001"):
            await ex.cancel_order("no-such-order", SYMBOL)
        with pytest.raises(ccxt.InvalidOrder, match="110017"):
            await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
    finally:
        for client in (bad, unknown, ex):
            await client.close()


def test_ccxt_sees_bybits_errors(handle: EmulatorThread) -> None:
    asyncio.run(_errors(handle))
