"""A small deterministic market at BTC-like prices, and an emulator serving it on loopback.

The bars: 1-minute BTCUSDT candles around 60,000 USDT following a slow wave (±600 over an
hour), so limit orders, stops and take-profits placed a few hundred dollars away fill within a
few dozen bars. The emulator starts with 100 bars of history and moves only when a test steps
it (``speed=step``), so every test is deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import requests

from tradeplay.data.candles import Candles
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import (
    AccountSpec,
    Emulator,
    EmulatorOptions,
    EmulatorThread,
    Market,
)
from tradeplay.ports import Clock

START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000
HISTORY_BARS = 100
KEY, SECRET = "testkey", "testsecret"
OTHER_KEY, OTHER_SECRET = "livekey", "livesecret"


def wave_candles(n: int = 600, start_ms: int = START_MS) -> Candles:
    """Open-to-close candles on a 0.1 tick along a 60-minute wave around 60,000."""
    t = np.arange(n + 1)
    path = np.round(60_000 + 600 * np.sin(2 * np.pi * t / 60), 1)
    opens, closes = path[:-1], path[1:]
    return Candles.from_columns(
        ts=start_ms + MINUTE * np.arange(n),
        open=opens,
        high=np.round(np.maximum(opens, closes) + 20, 1),
        low=np.round(np.minimum(opens, closes) - 20, 1),
        close=closes,
        volume=np.full(n, 25.0),
    )


def wave_market(n: int = 600) -> Market:
    return Market.from_candles({bybit_linear("BTCUSDT"): wave_candles(n)}, Timeframe.parse("1m"))


def accounts() -> list[AccountSpec]:
    return [
        AccountSpec(name="demo", api_key=KEY, secret=SECRET),
        AccountSpec(name="live", api_key=OTHER_KEY, secret=OTHER_SECRET, balance=500),
    ]


def make_emulator(clock: Clock | None = None, **options: Any) -> Emulator:
    settings: dict[str, Any] = {
        "start_ms": START_MS + HISTORY_BARS * MINUTE,
        "enforce_rate_limits": False,
    }
    settings.update(options)
    return Emulator(wave_market(), accounts(), EmulatorOptions(**settings), clock=clock)


@pytest.fixture
def handle() -> Iterator[EmulatorThread]:
    """A stepped emulator on its own loop thread, on an ephemeral loopback port."""
    with EmulatorThread(make_emulator()) as running:
        yield running


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Signed:
    """Raw signed REST calls, the way Bybit's docs describe them (compact JSON bodies)."""

    base: str
    key: str = KEY
    secret: str = SECRET
    recv_window: str = "5000"

    def headers(self, payload: str, stamp: int | None = None) -> dict[str, str]:
        ts = str(now_ms() if stamp is None else stamp)
        origin = ts + self.key + self.recv_window + payload
        sign = hmac.new(self.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        return {
            "X-BAPI-API-KEY": self.key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": self.recv_window,
            "X-BAPI-SIGN": sign,
            "Content-Type": "application/json",
        }

    def get(self, path: str, query: str = "") -> dict[str, Any]:
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        response = requests.get(url, headers=self.headers(query), timeout=10)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(body, separators=(",", ":"))
        response = requests.post(
            f"{self.base}{path}", data=text, headers=self.headers(text), timeout=10
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


@pytest.fixture
def signed(handle: EmulatorThread) -> Signed:
    return Signed(handle.url)
