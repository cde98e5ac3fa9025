"""The kill test's exchange: a Bybit V5 emulator in a process of its own, so it outlives every
runtime the test kills, replaying a choppy market that an EMA-cross play trades every few bars.

``python -m tests.runtime.kill_emulator`` prints ``ready PORT``, then obeys one command a line
on stdin, answering each with one line:

* ``go`` — replay one bar every ``BAR_S`` seconds (``going``);
* ``hold`` — stop after the bar in progress (``held BARS``: bars replayed so far);
* ``step N`` — replay N bars at once while held (``stepped BARS``);
* ``quit``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Final

import numpy as np
import structlog

from tests.emulator.conftest import MINUTE, START_MS
from tradeplay.data.candles import Candles
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, Market

KEY, SECRET = "kill-key", "kill-secret"
HISTORY: Final = 260
"""Bars before the replay starts: the play's 200 warm-up bars and room to spare."""
BARS: Final = 3000
BAR_S: Final = 0.1
SEED: Final = 20240101


def choppy_candles(n: int = BARS, seed: int = SEED) -> Candles:
    """A 10-bar wave of ±300 around 60,000 with noise: fast EMAs cross every few bars and a
    0.3 % stop or 0.4 % target is often within one bar's reach."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + 1)
    path = 60_000 + 300 * np.sin(2 * np.pi * t / 10) + np.cumsum(rng.normal(0, 25, n + 1))
    path = np.round(path, 1)
    opens, closes = path[:-1], path[1:]
    reach = np.round(rng.uniform(10, 120, n), 1)
    return Candles.from_columns(
        ts=START_MS + MINUTE * np.arange(n),
        open=opens,
        high=np.round(np.maximum(opens, closes) + reach, 1),
        low=np.round(np.minimum(opens, closes) - reach, 1),
        close=closes,
        volume=np.full(n, 25.0),
    )


class Replay:
    """The emulator's bars, moved by commands."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.going = asyncio.Event()
        self.lock = asyncio.Lock()

    async def run(self) -> None:
        while True:
            await self.going.wait()
            async with self.lock:
                if self.going.is_set() and not await self.emulator.step():
                    return
            await asyncio.sleep(BAR_S)

    async def command(self, line: str) -> str:
        word, *rest = line.split() or [""]
        if word == "go":
            self.going.set()
            return "going"
        if word == "hold":
            self.going.clear()
            async with self.lock:  # the bar in progress is published in full
                return f"held {self.emulator.bars_replayed}"
        if word == "step":
            async with self.lock:
                await self.emulator.step(int(rest[0]))
                return f"stepped {self.emulator.bars_replayed}"
        return f"unknown {word}"


async def main() -> None:
    # stdout is the command channel: logs go to stderr
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    emulator = Emulator(
        Market.from_candles({bybit_linear("BTCUSDT"): choppy_candles()}, Timeframe.parse("1m")),
        [AccountSpec(name="kill", api_key=KEY, secret=SECRET)],
        EmulatorOptions(start_ms=START_MS + HISTORY * MINUTE, enforce_rate_limits=False),
    )
    await emulator.start()
    replay = Replay(emulator)
    task = asyncio.create_task(replay.run())
    print(f"ready {emulator.port}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        print(await replay.command(line), flush=True)
    task.cancel()
    await emulator.stop()


if __name__ == "__main__":
    asyncio.run(main())
