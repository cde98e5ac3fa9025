"""The trade history of a running deployment is complete without a restart: every execution the
venue made — the position's own take-profit and stop-loss included, which carry no orderLinkId
of ours — is stored as it comes, and every stored order follows the venue's status within the
bar that brought its fill.

One demo environment on the kill test's choppy market (an EMA-cross play with a 0.3 % stop and
a 0.4 % target, so stops and targets fill every few bars); the emulator is stepped one bar at a
time and the test waits for the pair to take each bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.emulator.conftest import START_MS, Signed
from tests.runtime.emulated import Steps, venue_rows, wait_for_topics
from tests.runtime.kill_emulator import HISTORY, choppy_candles
from tests.runtime.test_kill import PLAY
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.notify import Event, LocalBus, StopLossHit, TakeProfitHit
from tradeplay.runtime.deployment import read_deployment
from tradeplay.runtime.pairs import PairKey
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.store import Database, default_url
from tradeplay.venues.bybit.reports import order_report

KEY, SECRET = "history-key", "history-secret"
BARS = 60
DEPLOYMENT = """\
schema_version: 1
name: history
environments:
  demo: {kind: demo, api_key: "${KEY}", api_secret: "${SECRET}", emulator: "${EMULATOR}",
         capital: 10000}
plays:
  - {play: cross.yaml, name: cross, environments: all}
"""
TOPICS = {"kline.1.BTCUSDT", "order", "execution", "position", "wallet"}
PAIR = PairKey("demo", "cross")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    emulator = Emulator(
        Market.from_candles(
            {bybit_linear("BTCUSDT"): choppy_candles(HISTORY + BARS + 10)}, Timeframe.parse("1m")
        ),
        [AccountSpec(name="demo", api_key=KEY, secret=SECRET)],
        EmulatorOptions(start_ms=START_MS + HISTORY * 60_000, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle


def test_a_running_deployment_records_every_execution_and_follows_every_order(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    (tmp_path / "cross.yaml").write_text(PLAY)
    environ = {"KEY": KEY, "SECRET": SECRET, "EMULATOR": emulator.url}
    plan = read_deployment(DEPLOYMENT, tmp_path / "deploy.yaml", environ)
    database = Database.open(default_url(tmp_path / "home"))
    bus, seen = LocalBus(), list[Event]()
    bus.subscribe(seen.append)
    steps = Steps()
    supervisor = Supervisor(plan, database, bus, SystemClock(), SupervisorOptions(on_step=steps))
    api = Signed(emulator.url, KEY, SECRET)
    supervisor.start()
    lagging: list[str] = []
    compared = 0
    before: dict[str, OrderStatus] = {}
    """The venue's finished orders before the bar was stepped."""
    try:
        wait_for_topics(emulator, TOPICS)
        for bar in range(1, BARS + 1):
            assert emulator.step() == 1
            steps.wait([PAIR], bar)
            # Every fill the venue made before this bar closed has been taken with it: an order
            # the venue had finished then is stored so. (An order the step itself sent may
            # fill at the venue while the step ends: its fill belongs to the next bar.)
            stored = {o.client_order_id: o.status for o in database.orders.all("demo")}
            lagging += [
                f"bar {bar}: {link} stored {stored.get(link)}, venue {status}"
                for link, status in before.items()
                if stored.get(link) is not status
            ]
            compared += len(before)
            before = {
                str(o.client_order_id): o.status
                for o in (
                    order_report(i)
                    for i in venue_rows(api, "/v5/order/history", "category=linear&limit=50")
                )
                if o.client_order_id is not None and o.status.is_final
            }
    finally:
        supervisor.stop("test over")
    executions = venue_rows(api, "/v5/execution/list", "category=linear&limit=100")
    venue_fills = {row["execId"]: row for row in executions if row["execType"] == "Trade"}
    recorded = {f.trade_id: f for f in database.fills.since("demo", EPOCH)}
    database.close()

    protective = {i for i, row in venue_fills.items() if row["stopOrderType"] != "UNKNOWN"}
    assert protective, "no stop or target filled: the test proves nothing"
    assert set(recorded) == set(venue_fills)  # complete, without a restart's recovery
    for trade_id in protective:
        fill = recorded[trade_id]
        assert (fill.client_order_id, fill.order_id) == (None, venue_fills[trade_id]["orderId"])
        assert fill.price == Decimal(venue_fills[trade_id]["execPrice"])
    hits = {type(e).__name__ for e in seen if isinstance(e, StopLossHit | TakeProfitHit)}
    kinds = {venue_fills[i]["stopOrderType"] for i in protective}
    assert hits == {f"{kind}Hit" for kind in kinds}
    assert compared, "no finished order to compare: the test proves nothing"
    assert lagging == []
