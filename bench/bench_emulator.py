"""Benchmark of the Bybit V5 emulator over loopback (not part of the pytest suite).

    .venv/bin/python bench/bench_emulator.py                 # both figures
    .venv/bin/python bench/bench_emulator.py --seconds 5 --workers 16 --subscribers 8

Order throughput: a client (aiohttp, the same library ccxt uses) runs ``--workers`` loops for
``--seconds``, each placing a limit order far below the market (``/v5/order/create``) and
cancelling it (``/v5/order/cancel``), as a bot re-quoting does; the emulator's per-endpoint rate
limits are off for this run. The figure is orders per second (each one a create and a cancel,
both signed, verified, validated and carried out on the simulated exchange). The book stays
small on purpose: the simulator's balance check walks the open orders, so a book of thousands
of resting orders is slower (see bench/README.md).

Replay speed: the emulator replays the generated sample market (no network) at ``max`` pace —
each bar only after every subscriber was sent the last one — to ``--subscribers`` public
WebSocket clients, each subscribed to ``kline.1``, ``kline.5``, ``tickers`` and
``publicTrade`` of BTCUSDT; the figure is bars per second, and the messages the subscribers
received per second. Exits with status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
from decimal import Decimal
from typing import Any

import aiohttp

from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, ReplaySpeed
from tradeplay.emulator.sources import sample_market
from tradeplay.logs import configure_logging
from tradeplay.settings import LogFormat

KEY, SECRET = "bench-key", "bench-secret"
ORDERS_PER_SECOND_TARGET = 300.0
BARS_PER_SECOND_TARGET = 500.0


def _account() -> list[AccountSpec]:
    return [AccountSpec(name="bench", api_key=KEY, secret=SECRET, balance=Decimal(10**9))]


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time() * 1000))
    sign = hmac.new(SECRET.encode(), (ts + KEY + "5000" + body).encode(), hashlib.sha256)
    return {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign.hexdigest(),
        "Content-Type": "application/json",
    }


async def order_throughput(seconds: float, workers: int) -> tuple[int, float]:
    options = EmulatorOptions(enforce_rate_limits=False)
    emulator = Emulator(sample_market(days=2), _account(), options)
    await emulator.start()
    body = json.dumps(
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "10000",
        },
        separators=(",", ":"),
    )
    acknowledged = 0
    deadline = time.perf_counter() + seconds

    async def call(session: aiohttp.ClientSession, path: str, text: str) -> dict[str, Any]:
        async with session.post(f"{emulator.url}{path}", data=text, headers=_signed(text)) as r:
            answer: dict[str, Any] = await r.json()
        if answer["retCode"] != 0:
            raise RuntimeError(f"{path} refused: {answer}")
        return answer

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal acknowledged
        while time.perf_counter() < deadline:
            order_id = (await call(session, "/v5/order/create", body))["result"]["orderId"]
            cancel = {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id}
            await call(session, "/v5/order/cancel", json.dumps(cancel, separators=(",", ":")))
            acknowledged += 1

    started = time.perf_counter()
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(worker(session) for _ in range(workers)))
    finally:
        await emulator.stop()
    return acknowledged, time.perf_counter() - started


async def replay_speed(days: int, subscribers: int) -> tuple[int, int, float]:
    emulator = Emulator(
        sample_market(days=days), _account(), EmulatorOptions(speed=ReplaySpeed.parse("step"))
    )
    await emulator.start()
    topics = ["kline.1.BTCUSDT", "kline.5.BTCUSDT", "tickers.BTCUSDT", "publicTrade.BTCUSDT"]
    received = 0

    async def subscriber(session: aiohttp.ClientSession, ready: asyncio.Event) -> None:
        nonlocal received
        async with session.ws_connect(f"{emulator.ws_url}/v5/public/linear") as ws:
            await ws.send_json({"op": "subscribe", "args": topics})
            ready.set()
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                received += 1

    async with aiohttp.ClientSession() as session:
        readies = [asyncio.Event() for _ in range(subscribers)]
        tasks = [asyncio.create_task(subscriber(session, ready)) for ready in readies]
        await asyncio.gather(*(ready.wait() for ready in readies))
        while sum(len(c.topics) for c in emulator.streams.connections) < subscribers * 4:
            await asyncio.sleep(0.01)
        received = 0
        started = time.perf_counter()
        bars = 0
        while step := await emulator.step(1000):  # max pace: each step waits for the sockets
            bars += step
        elapsed = time.perf_counter() - started
        await emulator.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    return bars, received, elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--days", type=int, default=4, help="sample market days to replay")
    parser.add_argument("--subscribers", type=int, default=4)
    args = parser.parse_args(argv)
    configure_logging("warning", LogFormat.console)  # per-connection logs would be timed too
    orders, elapsed = asyncio.run(order_throughput(args.seconds, args.workers))
    rate = orders / elapsed
    print(
        f"order throughput   {rate:8.0f} orders/s  ({orders:,} created and cancelled in "
        f"{elapsed:.1f} s, {args.workers} in flight, {2 * rate:,.0f} requests/s; "
        f"target > {ORDERS_PER_SECOND_TARGET:.0f})"
    )
    bars, messages, seconds = asyncio.run(replay_speed(args.days, args.subscribers))
    bar_rate = bars / seconds
    print(
        f"replay speed       {bar_rate:8.0f} bars/s    ({bars:,} 1m bars in {seconds:.1f} s to "
        f"{args.subscribers} subscribers x 4 topics, {messages / seconds:,.0f} messages/s "
        f"received; target > {BARS_PER_SECOND_TARGET:.0f})"
    )
    return 0 if rate > ORDERS_PER_SECOND_TARGET and bar_rate > BARS_PER_SECOND_TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
