"""``tradeplay up`` for the kill test, with a way to die at the two instants a random kill
rarely hits: ``python -m tests.runtime.kill_runtime DEPLOYMENT`` with ``KILL_AT`` set to

* ``stored:N`` — the N-th entry is stored as ``pending`` and the process dies before it is sent;
* ``sent:N`` — the N-th entry reaches the venue and the process dies before it hears the
  answer, and before the entry's stop and target are placed (the entry leaves without its
  fill-relative protection — exactly the request the venue layer sends first — and the
  process dies as soon as the create call returns).

The same wiring as ``tradeplay up`` (:func:`tradeplay.services.up_deployment`) without the
CLI's imports, plus the supervisor's market hook.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.notify import LocalBus
from tradeplay.ports import Exchange
from tradeplay.runtime.deployment import load_deployment
from tradeplay.runtime.forwarding import ForwardingExchange
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.runner import Market
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.settings import Settings
from tradeplay.store import Database, default_url


class DyingExchange(ForwardingExchange):
    """Passes every call on, until the entry it is told to die at."""

    def __init__(self, inner: Exchange, point: str, entry: int) -> None:
        super().__init__(inner)
        self._point = point
        self._entry = entry
        self._entries = 0

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        if not order.reduce_only:
            self._entries += 1
        if self._entries != self._entry or order.reduce_only:
            return self._inner.submit(order)
        if self._point == "sent":
            self._inner.submit(replace(order, protection=None))
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")  # pragma: no cover


class DyingMarket:
    def __init__(self, inner: Market, point: str, entry: int) -> None:
        self._inner = inner
        self._exchange = DyingExchange(inner.exchange, point, entry)

    @property
    def exchange(self) -> Exchange:
        return self._exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        return self._inner.on_bar(row)


def main(path: Path) -> None:
    point, _, entry = os.environ.get("KILL_AT", "").partition(":")

    def decorate(_pair: Pair, market: Market) -> Market:
        return DyingMarket(market, point, int(entry)) if point else market

    deployment = load_deployment(path, os.environ)
    database = Database.open(default_url(Settings().data_home))
    try:
        options = SupervisorOptions(environ=os.environ, decorate_market=decorate)
        supervisor = Supervisor(deployment, database, LocalBus(), SystemClock(), options)
        supervisor.run(threading.Event())
    finally:
        database.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
