"""The kill test: the runtime is SIGKILLed at random points while it trades, and restarted, again
and again; after every restart has reconciled, and at the end, nothing is lost or doubled.

The emulator runs in a process of its own (:mod:`tests.runtime.kill_emulator`) and survives
every kill; the runtime is ``tradeplay up`` on a one-environment deployment (an EMA-cross play
on 1-minute bars, long and short, with a 0.3 % stop and a 0.4 % target), replaying ten bars a
second. Each cycle, from a seeded plan:

* ``time`` — killed at a random moment of its trading (``tradeplay up`` itself);
* ``startup`` — killed at a random moment of its start (imports, preflight, recovery, first bars);
* ``stored`` / ``sent`` — killed by :mod:`tests.runtime.kill_runtime` just after an entry was
  stored but not sent, or sent but its answer (and its stop and target) not yet had.

After a kill the market sometimes moves on a few bars (stops and targets fill while nobody
watches), then holds still while the runtime restarts. Once its recovery has agreed with the
venue, the test compares the two sides — every order once on both sides, none doubled for one
signal, the same position, balance and fills, and every open position protected — and lets
the market run again.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final

import pytest

from tests.emulator.conftest import Signed
from tests.runtime.emulated import venue_rows
from tests.runtime.kill_emulator import KEY, SECRET
from tradeplay.domain.order import OrderStatus
from tradeplay.runtime.recovery import NEVER_PLACED, STATE_KEY
from tradeplay.store import Database, default_url
from tradeplay.venues.bybit.reports import order_report

SEED: Final = int(os.environ.get("KILL_SEED", "7"))
"""The plan's seed; ``KILL_SEED=N`` runs another plan (the CI runs seed 7)."""
CYCLES: Final = 24
ENV: Final = "demo"
BTC: Final = "BTCUSDT"
SETTLE_S: Final = 30.0
PLAY: Final = """\
schema_version: 1
name: kill cross
symbol: BTCUSDT
timeframe: 1m
features: {fast: {kind: ema, period: 2}, slow: {kind: ema, period: 5}}
long: {entry: "crosses_above(fast, slow)", exit: "crosses_below(fast, slow)"}
short: {entry: "crosses_below(fast, slow)", exit: "crosses_above(fast, slow)"}
sizing: {method: percent_equity, percent: 20}
stop_loss: {method: percent, percent: 0.3}
take_profit: {method: percent, percent: 0.4}
account: {capital: 10000, leverage: 1, margin_mode: isolated}
"""
DEPLOYMENT: Final = """\
schema_version: 1
name: kill
environments:
  demo: {kind: demo, api_key: "${KILL_KEY}", api_secret: "${KILL_SECRET}",
         emulator: "${EMULATOR}", capital: 10000}
plays:
  - {play: cross.yaml, name: cross, environments: all}
"""


class EmulatorProcess:
    """The emulator's process and its command line."""

    def __init__(self, log: IO[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.runtime.kill_emulator"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=Path(__file__).parents[2],
        )
        word, port = self._line().split()
        assert word == "ready", word
        self.url = f"http://127.0.0.1:{port}"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the emulator process ended"
        return line.strip()

    def say(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def close(self) -> None:
        if self.process.poll() is None:
            self.say("hold")
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(10)


@dataclass
class Venue:
    """The emulator account, read over its own REST API."""

    api: Signed

    def _all(self, path: str, query: str) -> list[dict[str, Any]]:
        return venue_rows(self.api, path, query)

    def orders(self) -> list[dict[str, Any]]:
        return self._all("/v5/order/history", f"category=linear&symbol={BTC}&limit=50")

    def executions(self) -> list[dict[str, Any]]:
        rows = self._all("/v5/execution/list", f"category=linear&symbol={BTC}&limit=100")
        return [row for row in rows if row["execType"] == "Trade"]

    def position(self) -> dict[str, Any]:
        found = self.api.get("/v5/position/list", f"category=linear&symbol={BTC}")
        item: dict[str, Any] = found["result"]["list"][0]
        return item

    def wallet(self) -> Decimal:
        found = self.api.get("/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT")
        return Decimal(found["result"]["list"][0]["coin"][0]["walletBalance"])


@dataclass
class Harness:
    tmp: Path
    emulator: EmulatorProcess
    venue: Venue
    environ: dict[str, str]
    database: Database
    runs: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, kill_at: str = "") -> subprocess.Popen[bytes]:
        self.runs += 1
        if kill_at:
            command = [sys.executable, "-m", "tests.runtime.kill_runtime"]
            environ = {**self.environ, "KILL_AT": kill_at}
        else:
            command = [str(Path(sys.executable).with_name("tradeplay")), "up"]
            environ = self.environ
        with (self.tmp / f"run-{self.runs:02d}.log").open("wb") as log:
            process = subprocess.Popen(
                [*command, str(self.tmp / "deploy.yaml")],
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).parents[2],
            )
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)
        self.database.close()

    def recovered(self, after: str | None, process: subprocess.Popen[bytes]) -> str:
        """Wait until the runtime's recovery stored an agreed reconciliation newer than
        ``after``; its time."""
        deadline = time.monotonic() + SETTLE_S
        store = self.database.state_store(ENV, _NoClock())
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the runtime exited: see run-{self.runs:02d}.log"
            snapshot = store.load(STATE_KEY)
            if snapshot is not None and snapshot["reconciled_at"] != after:
                assert snapshot["agreed"], snapshot
                return str(snapshot["reconciled_at"])
            time.sleep(0.05)
        raise AssertionError(f"no reconciliation within {SETTLE_S:g} s (run-{self.runs:02d}.log)")

    def assert_agree(self) -> dict[str, int]:
        """Our records and the emulator's account are the same; a few counts of them."""
        venue_orders = [order_report(item) for item in self.venue.orders()]
        at_venue = {str(o.client_order_id): o for o in venue_orders if o.client_order_id}
        ours = self.database.orders.all(ENV)
        never = {o.client_order_id for o in ours if o.reason == NEVER_PLACED}
        placed = [o for o in ours if o.client_order_id not in never]
        assert sorted(o.client_order_id for o in placed) == sorted(at_venue)  # none lost
        assert not never & set(at_venue)
        for order in placed:  # the venue's word on each
            assert order.status is at_venue[order.client_order_id].status, order
        assert all(o.status is OrderStatus.REJECTED for o in ours if o.client_order_id in never)
        entries = Counter(
            o.created_at for o in venue_orders if o.client_order_id and not o.reduce_only
        )
        assert max(entries.values(), default=0) <= 1, entries  # no signal entered twice
        fills = {row["execId"] for row in self.venue.executions()}
        recorded = {f.trade_id for f in self.database.fills.since(ENV, _EPOCH)}
        assert recorded == fills  # the trade history is complete, and nothing extra
        item = self.venue.position()
        stored = self.database.positions.get(ENV, BTC)
        size = Decimal(item["size"]) * (-1 if item["side"] == "Sell" else 1)
        assert (Decimal(0) if stored is None else stored.size) == size
        protected = item["stopLoss"] not in ("", "0") and item["takeProfit"] not in ("", "0")
        closing = [
            o for o in venue_orders if o.is_open and o.reduce_only and o.qty == abs(size)
        ]  # recovery closes a position already past its stop or target at market
        assert not size or protected or closing, item
        [balance] = self.database.balances.latest(ENV)
        assert balance.wallet_balance == self.venue.wallet()
        return {"orders": len(placed), "never_placed": len(never), "fills": len(fills)}


class _NoClock:
    def now(self) -> datetime:
        raise AssertionError("the test only reads the state store")


_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    (tmp_path / "cross.yaml").write_text(PLAY)
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    with (tmp_path / "emulator.log").open("w") as log:
        emulator = EmulatorProcess(log)
        try:
            environ = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("TRADEPLAY_", "XDG_"))
            }
            environ |= {
                "KILL_KEY": KEY,
                "KILL_SECRET": SECRET,
                "EMULATOR": emulator.url,
                "TRADEPLAY_DATA_HOME": str(tmp_path / "home"),
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
            }
            database = Database.open(default_url(tmp_path / "home"))
            venue = Venue(Signed(emulator.url, KEY, SECRET))
            harness = Harness(tmp_path, emulator, venue, environ, database)
            try:
                yield harness
            finally:
                harness.close()
        finally:
            emulator.process.kill()
            emulator.process.wait(10)
            for stream in (emulator.process.stdin, emulator.process.stdout):
                if stream is not None:
                    stream.close()


def plan(rng: random.Random) -> list[str]:
    """The kill point of each cycle: a quarter each stored / sent by the hook, the rest at a
    random time (a sixth of those during the start)."""
    points = ["stored:1", "sent:1", "stored:2", "sent:2"] * 2
    points += ["startup"] * 3
    points += ["time"] * (CYCLES - len(points))
    rng.shuffle(points)
    return points


def test_killed_at_random_points_the_runtime_loses_and_doubles_nothing(
    harness: Harness,
) -> None:
    rng = random.Random(SEED)
    reconciled: str | None = None
    kills: Counter[str] = Counter()
    began = time.monotonic()
    for point in plan(rng):
        hooked = point.startswith(("stored", "sent"))
        process = harness.start(point if hooked else "")
        if point == "startup":
            harness.emulator.say("go")
            time.sleep(rng.uniform(1.0, 3.5))
        else:
            reconciled = harness.recovered(reconciled, process)
            harness.assert_agree()
            harness.emulator.say("go")
            if not hooked:
                time.sleep(rng.uniform(0.3, 1.2))
        if hooked:
            try:
                process.wait(15)  # it dies by itself at its entry
            except subprocess.TimeoutExpired:
                states = [(d.name, d.state, d.reason) for d in harness.database.deployments.all()]
                pytest.fail(f"{point}: no entry in 15 s (run-{harness.runs:02d}.log); {states}")
        else:
            process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL, f"run-{harness.runs:02d}.log"
        kills[point.partition(":")[0]] += 1
        down = rng.choice([0, 0, 1, 3])
        harness.emulator.say("hold")
        if down:
            harness.emulator.say(f"step {down}")  # the market moves on while nobody watches
    process = harness.start()
    harness.recovered(reconciled, process)
    counts = harness.assert_agree()
    process.send_signal(signal.SIGINT)
    process.wait(30)
    elapsed = time.monotonic() - began
    print(f"kills {dict(kills)}; {counts}; {harness.emulator.say('hold')}; {elapsed:.0f} s")
    assert sum(kills.values()) == CYCLES
    assert counts["orders"] >= CYCLES  # it traded all along
