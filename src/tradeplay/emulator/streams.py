"""Bybit's WebSocket streams: public market topics and private account topics (reference §4, §7).

Public (``/v5/public/linear``): ``kline.{interval}.{symbol}``, ``tickers.{symbol}``,
``publicTrade.{symbol}``, pushed after every replay step. Private (``/v5/private``): ``order``,
``execution``, ``position``, ``wallet`` (and their ``.linear`` forms) after ``auth``.

Acks and pongs are Bybit's own shapes: a public pong is ``{"success":true,"ret_msg":"pong",
"op":"ping",…}`` (``op`` stays ``ping``), a private pong ``{"op":"pong","args":["<ms>"],…}``.
Protocol-level pings (RFC 6455, pybit sends them) are answered with pong frames — by hand
rather than by aiohttp's autoping, so that a *stale* stream can stay silent.

Each connection has one outgoing queue and one writer task, so messages leave in the order
they were produced (order → execution → position → wallet) and a slow client delays only
itself; :meth:`Streams.drained` lets the replay wait for every queue to empty ("as fast as the
clients keep up"). A connection that sends nothing for ``idle_timeout_s`` (Bybit: 10 minutes)
is closed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Final

import structlog
from aiohttp import WSMsgType, web

from tradeplay.emulator.auth import verify_ws_auth
from tradeplay.emulator.config import AccountSpec
from tradeplay.emulator.faults import Faults
from tradeplay.emulator.market import Market, SymbolMarket
from tradeplay.emulator.venue import Notice

__all__ = ["Connection", "Streams"]

log = structlog.get_logger(__name__)

_PRIVATE_TOPICS: Final = {
    "order": "order",
    "order.linear": "order",
    "execution": "execution",
    "execution.linear": "execution",
    "position": "position",
    "position.linear": "position",
    "wallet": "wallet",
}


_ENDS: Final = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class Connection:
    """One client socket: its subscriptions, its account once authenticated, its queue."""

    def __init__(self, ws: web.WebSocketResponse, *, private: bool) -> None:
        self.ws = ws
        self.private = private
        self.conn_id = str(uuid.uuid4())
        self.topics: set[str] = set()
        self.account: AccountSpec | None = None
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def send(self, message: dict[str, object]) -> None:
        self.queue.put_nowait(json.dumps(message, separators=(",", ":")))


class Streams:
    """Every open socket, and the fan-out of replay steps and account changes to them."""

    def __init__(
        self,
        market: Market,
        accounts: dict[str, AccountSpec],
        faults: Faults,
        now_ms: Callable[[], int],
        *,
        idle_timeout_s: float = 600.0,
    ) -> None:
        self._market = market
        self._accounts = accounts
        self._faults = faults
        self._now_ms = now_ms
        self._idle_timeout_s = idle_timeout_s
        self.connections: set[Connection] = set()

    # ---------------------------------------------------------------- sockets

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        private = request.path.rstrip("/") == "/v5/private"
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        connection = Connection(ws, private=private)
        self.connections.add(connection)
        writer = asyncio.create_task(self._write(connection))
        log.debug("ws_connected", path=request.path, conn_id=connection.conn_id)
        try:
            await self._read(connection)
        finally:
            self.connections.discard(connection)
            writer.cancel()
            _discard_unsent(connection.queue)
            log.debug("ws_closed", path=request.path, conn_id=connection.conn_id)
        return ws

    async def _read(self, connection: Connection) -> None:
        ws = connection.ws
        while not ws.closed:
            try:
                message = await ws.receive(timeout=self._idle_timeout_s)
            except TimeoutError:
                await ws.close()  # Bybit cuts idle connections (reference §1)
                return
            if message.type == WSMsgType.PING:
                if not self._faults.stale:
                    await ws.pong(message.data)
            elif message.type == WSMsgType.TEXT:
                if not self._faults.stale:
                    self._on_text(connection, message.data)
            elif message.type in _ENDS:
                return

    async def _write(self, connection: Connection) -> None:
        queue = connection.queue
        while True:
            text = await queue.get()
            try:
                if not self._faults.stale and not connection.ws.closed:
                    await connection.ws.send_str(text)
            except ConnectionError:
                pass  # the reader notices the closed socket and cleans up
            finally:
                queue.task_done()

    async def drained(self) -> None:
        """Wait until every queued message was handed to its socket."""
        await asyncio.gather(*(c.queue.join() for c in list(self.connections)))

    async def drop_all(self) -> int:
        """Close every socket from the server side (code 1000, as Bybit does)."""
        connections = list(self.connections)
        await asyncio.gather(*(c.ws.close() for c in connections), return_exceptions=True)
        return len(connections)

    # ---------------------------------------------------------------- client operations

    def _on_text(self, connection: Connection, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            connection.send(self._ack(connection, {}, "", False, "error:request is not JSON"))
            return
        op = request.get("op")
        if op == "ping":
            connection.send(self._pong(connection, request))
        elif op == "auth" and connection.private:
            account = verify_ws_auth(request.get("args"), self._accounts, self._now_ms())
            connection.account = account or connection.account
            ret_msg = "" if account is not None else "Params Error"
            connection.send(self._ack(connection, request, "auth", account is not None, ret_msg))
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(connection, request, str(op))
        else:
            connection.send(
                self._ack(connection, request, str(op), False, f"error:unknown op {op!r}")
            )

    def _pong(self, connection: Connection, request: dict[str, object]) -> dict[str, object]:
        if connection.private:
            pong: dict[str, object] = {}
            if "req_id" in request:
                pong["req_id"] = request["req_id"]
            pong.update(op="pong", args=[str(self._now_ms())], conn_id=connection.conn_id)
            return pong
        return {
            "success": True,
            "ret_msg": "pong",
            "conn_id": connection.conn_id,
            "req_id": request.get("req_id", ""),
            "op": "ping",
        }

    def _ack(
        self,
        connection: Connection,
        request: dict[str, object],
        op: str,
        success: bool,
        ret_msg: str,
    ) -> dict[str, object]:
        ack: dict[str, object] = {"success": success, "ret_msg": ret_msg}
        ack["conn_id"] = connection.conn_id
        if "req_id" in request or not connection.private:
            ack["req_id"] = request.get("req_id", "")
        ack["op"] = op
        return ack

    def _subscribe(self, connection: Connection, request: dict[str, object], op: str) -> None:
        args = request.get("args")
        topics = [a for a in args if isinstance(a, str)] if isinstance(args, list) else []
        if not topics:
            connection.send(self._ack(connection, request, op, False, "error:args is empty"))
            return
        if connection.private and connection.account is None:
            message = f"error:topic:{topics[0]} needs auth first"
            connection.send(self._ack(connection, request, op, False, message))
            return
        bad = next((t for t in topics if not self._known(connection, t)), None)
        good = [t for t in topics if t != bad and self._known(connection, t)]
        if op == "subscribe":
            connection.topics.update(good)
        else:
            connection.topics.difference_update(good)
        ret_msg = "" if bad is None else f"error:handler not found,topic:{bad}"
        connection.send(self._ack(connection, request, op, bad is None, ret_msg))
        if op == "subscribe":
            for topic in good:  # linear tickers start with a snapshot (reference §7.1)
                if topic.startswith("tickers."):
                    self._send_ticker(connection, topic, "snapshot")

    def _known(self, connection: Connection, topic: str) -> bool:
        if connection.private:
            return topic in _PRIVATE_TOPICS
        kind, _, rest = topic.partition(".")
        if kind == "kline":
            interval, _, symbol = rest.partition(".")
            market = self._market.symbols.get(symbol)
            return market is not None and market.supports(interval)
        if kind in ("tickers", "publicTrade"):
            return rest in self._market.symbols
        return False

    # ---------------------------------------------------------------- publishing

    def publish(self, notices: Iterable[Notice]) -> None:
        """Queue account changes for the sockets of those accounts that subscribed."""
        private = [c for c in self.connections if c.private and c.account is not None]
        if not private:
            return
        for notice in notices:
            listeners = [
                c
                for c in private
                if c.account is not None
                and c.account.api_key == notice.api_key
                and notice.topic in {_PRIVATE_TOPICS[t] for t in c.topics}
            ]
            if not listeners:
                continue
            data = notice.render()
            for connection in listeners:
                connection.send(
                    {
                        "id": str(uuid.uuid4()),
                        "topic": notice.topic,
                        "creationTime": self._now_ms(),
                        "data": data,
                    }
                )

    def publish_bar(self, symbols: Iterable[SymbolMarket]) -> int:
        """Queue the public messages of the bars just revealed; the number of messages.

        Each topic's message is rendered once and the same text queued for every subscriber.
        """
        public = [c for c in self.connections if not c.private and c.topics]
        if not public:
            return 0
        wanted = set().union(*(c.topics for c in public))
        rendered: dict[str, str] = {}
        for market in symbols:
            for topic in wanted:
                message = self._bar_message(topic, market)
                if message is not None:
                    rendered[topic] = json.dumps(message, separators=(",", ":"))
        sent = 0
        for connection in public:
            for topic in connection.topics & rendered.keys():
                connection.queue.put_nowait(rendered[topic])
                sent += 1
        return sent

    def _bar_message(self, topic: str, market: SymbolMarket) -> dict[str, object] | None:
        last = market.last
        assert last is not None
        ts = int(last[0]) + market.timeframe.ms - 1  # the bar's last millisecond
        kind, _, rest = topic.partition(".")
        if kind == "kline" and rest.endswith("." + market.symbol):
            data = market.kline_message(rest.partition(".")[0])
            return {"topic": topic, "data": [data], "ts": ts, "type": "snapshot"}
        if kind == "tickers" and rest == market.symbol:
            return self._ticker_message(topic, "delta")
        if kind == "publicTrade" and rest == market.symbol:
            return {"topic": topic, "type": "snapshot", "ts": ts, "data": [_trade(market, ts)]}
        return None

    def _send_ticker(self, connection: Connection, topic: str, kind: str) -> None:
        message = self._ticker_message(topic, kind)
        if message is not None:
            connection.send(message)

    def _ticker_message(self, topic: str, kind: str) -> dict[str, object] | None:
        market = self._market.symbols[topic.partition(".")[2]]
        if market.last is None:
            return None
        ts = self._market.now_ms
        data = market.ticker(ts)
        data["tickDirection"] = "PlusTick" if market.last[4] >= market.last[1] else "MinusTick"
        return {"topic": topic, "type": kind, "data": data, "cs": ts, "ts": ts}


def _trade(market: SymbolMarket, ts: int) -> dict[str, object]:
    """The bar as one synthetic public trade at its close (candles carry no trades)."""
    last = market.last
    assert last is not None
    up = last[4] >= last[1]
    return {
        "T": ts,
        "s": market.symbol,
        "S": "Buy" if up else "Sell",
        "v": f"{float(last[5]):.8f}".rstrip("0").rstrip(".") or "0",
        "p": market.price_text(float(last[4])),
        "L": "PlusTick" if up else "MinusTick",
        "i": f"{market.symbol}-{int(last[0])}",
        "BT": False,
        "RPI": False,
        "seq": int(last[0]),
    }


def _discard_unsent(queue: asyncio.Queue[str]) -> None:
    """A closed socket's unsent messages are gone: count them done, so a replay step waiting
    for every queue to drain (:meth:`Streams.drained`) is not held by a socket that left."""
    while not queue.empty():
        queue.get_nowait()
        queue.task_done()
