"""ccxt.pro's Bybit client as a raw V5 transport: signed REST requests and WebSocket topics.

The adapter uses ccxt for what it does well — signing, sessions, WebSocket connections with
ping/pong, authentication, resubscription — and not its unified layer, which turns Bybit's exact
strings into floats, drops the kline ``confirm`` flag, and raises on answers the adapter
treats as success (bybit_clients.md "Known rough edges"). So:

* REST goes through ccxt's implicit API (``private_post_v5_order_create`` …), whose answer is
  Bybit's JSON untouched. :class:`_RawBybit` stops ccxt from raising on a non-zero ``retCode``
  (the adapter judges it with :data:`~tradeplay.venues.bybit.errors.RET_CODES`) and asks it to
  return the response headers, for ``X-Bapi-Limit-Reset-Timestamp``.
* WebSocket topics are subscribed with ccxt's ``watch`` and raw subscribe messages; each message
  of a topic we subscribed is queued as Bybit sent it. ccxt keeps the connection alive with
  ``{"op":"ping"}`` and fails it when pongs stop (bybit_clients.md "WebSocket behaviour").
* ccxt's start-up probes are switched off so the call set stays what the emulator serves
  (bybit_clients.md "Pointing ccxt at the local emulator"), and its one-bucket rate limiter is
  off because :mod:`~tradeplay.venues.bybit.limits` does that per endpoint.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import ccxt
import ccxt.pro

from tradeplay.domain.errors import TradeplayError, VenueUnavailableError
from tradeplay.venues.bybit.config import VenueConfig
from tradeplay.venues.bybit.errors import translate_ccxt_error

__all__ = ["RECEIVED_NS", "Answer", "CcxtTransport"]

#: Key added to each queued WebSocket message: when the adapter received it (``perf_counter_ns``).
RECEIVED_NS: Final = "_tp_received_ns"
_RESET_HEADER: Final = "x-bapi-limit-reset-timestamp"
_PRIVATE_PREFIXES: Final = ("/v5/order/", "/v5/position/", "/v5/execution/", "/v5/account/")


@dataclass(frozen=True, slots=True)
class Answer:
    """One Bybit REST answer: the envelope's fields and the rate-limit reset header."""

    ret_code: int
    ret_msg: str
    result: Mapping[str, Any]
    time_ms: int | None
    reset_ms: int | None


def answer_from(body: Mapping[str, Any]) -> Answer:
    """Read an envelope ``{"retCode", "retMsg", "result", "time"}`` (numbers, or strings in
    recordings) and the headers ccxt added under ``responseHeaders``."""
    headers = {str(k).lower(): v for k, v in (body.get("responseHeaders") or {}).items()}
    reset = headers.get(_RESET_HEADER)
    time = body.get("time")
    return Answer(
        ret_code=int(str(body.get("retCode", 0))),
        ret_msg=str(body.get("retMsg") or ""),
        result=body.get("result") or {},
        time_ms=int(str(time)) if time not in (None, "") else None,
        reset_ms=int(str(reset)) if reset not in (None, "") else None,
    )


class _RawBybit(ccxt.pro.bybit):  # type: ignore[misc]  # ccxt ships no type information
    """ccxt.pro.bybit that returns Bybit's answers raw and queues raw WebSocket messages."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.topic_messages: dict[str, deque[dict[str, Any]]] = {}

    def handle_errors(self, *args: Any) -> None:
        # Every Bybit envelope reaches the adapter, error or not; HTTP-level failures (no JSON
        # body) are still raised by ccxt's status-code handling after this returns.
        return None

    def handle_message(self, client: Any, message: Any) -> None:
        topic = message.get("topic") if isinstance(message, dict) else None
        queue = self.topic_messages.get(topic) if isinstance(topic, str) else None
        if isinstance(message, dict) and message.get("op") == "subscribe":
            client.resolve(message, _ack_hash(message.get("req_id")))
        if queue is None:
            super().handle_message(client, message)  # pong, auth and subscribe answers
            return
        message[RECEIVED_NS] = time.perf_counter_ns()  # for the latency probe (bench/)
        queue.append(message)
        client.resolve(message, topic)


def _ccxt_options(config: VenueConfig) -> dict[str, Any]:
    urls = config.urls
    ws_public = dict.fromkeys(("spot", "linear", "inverse", "option"), urls.ws_public)
    private = urls.ws_private
    api = dict.fromkeys(("public", "private", "spot", "futures", "v2"), urls.rest)
    api_ws = {
        "public": ws_public,
        "private": {
            "contract": private,
            "usdc": private,
            "spot": {"unified": private, "nonUnified": private},
            "trade": private,
        },
    }
    keys = config.credentials
    return {
        "apiKey": keys.api_key if keys else None,
        "secret": keys.secret if keys else None,
        "enableRateLimit": False,
        "timeout": int(config.request_timeout_s * 1000),
        "urls": {"api": {**api, "ws": api_ws}},
        "options": {
            "defaultType": "swap",
            "defaultSubType": "linear",
            "fetchMarkets": {"types": ["linear"]},
            "enableUnifiedAccount": True,
            "enableUnifiedMargin": False,
            "recvWindow": config.recv_window_ms,
        },
    }


class CcxtTransport:
    """Raw Bybit V5 over one ccxt.pro client: :meth:`request` and :meth:`receive`."""

    def __init__(self, config: VenueConfig) -> None:
        self._config = config
        self._ex = _RawBybit(_ccxt_options(config))
        self._ex.has["fetchCurrencies"] = False  # skip /v5/asset/coin/query-info
        self._ex.returnResponseHeaders = True
        self._ex.streaming["keepAlive"] = int(config.ping_interval_s * 1000)

    async def request(self, method: str, path: str, params: Mapping[str, Any]) -> Answer:
        """Send one request; translated tradeplay errors for failures below Bybit's envelope
        (timeouts, refused connections, 5xx, 403 from the IP limit)."""
        access = "private" if path.startswith(_PRIVATE_PREFIXES) else "public"
        name = f"{access}_{method.lower()}_{path.strip('/').replace('/', '_').replace('-', '_')}"
        call = getattr(self._ex, name)
        try:
            body = await call(dict(params))
        except ccxt.BaseError as exc:
            raise translate_ccxt_error(
                exc, venue="bybit", symbol=str(params.get("symbol", ""))
            ) from exc
        if isinstance(body, str):  # ccxt hands back text it could not parse as JSON
            body = json.loads(body)
        return answer_from(body)

    async def subscribe(self, topic: str, *, private: bool) -> None:
        """Subscribe ``topic`` (authenticating a private socket first) and wait for Bybit's
        acknowledgement, at most ``request_timeout_s``; a socket that does not answer is closed
        and :class:`VenueUnavailableError` raised. Already subscribed: nothing to do."""
        self._ex.topic_messages.setdefault(topic, deque())
        url = self._config.urls.ws_private if private else self._config.urls.ws_public
        known = self._ex.clients.get(url)
        if known is not None and topic in known.subscriptions:
            return
        req_id = str(self._ex.request_id())
        subscribe = {"op": "subscribe", "req_id": req_id, "args": [topic]}
        timeout_s = self._config.request_timeout_s
        try:
            if private:
                await asyncio.wait_for(self._ex.authenticate(url), timeout_s)
            ack = self._ex.client(url).future(_ack_hash(req_id))
            self._ex.watch(url, topic, subscribe, topic)  # its messages are queued for receive
            answer = await asyncio.wait_for(ack, timeout_s)
        except TimeoutError:
            await self.reconnect(private=private)
            raise VenueUnavailableError(
                f"bybit stream {topic}: no answer to the subscription within {timeout_s:g} s"
            ) from None
        except ccxt.BaseError as exc:
            raise _stream_error(exc, topic) from exc
        if isinstance(answer, dict) and answer.get("success") is False:
            raise VenueUnavailableError(f"bybit refused the subscription {topic}: {answer}")

    async def receive(self, topic: str, *, private: bool) -> list[dict[str, Any]]:
        """The next messages of ``topic`` (``kline.1.BTCUSDT``, ``order`` …), as Bybit sent
        them; subscribes (and authenticates) on first use and after every reconnect. A dropped
        socket raises :class:`VenueUnavailableError`."""
        queue = self._ex.topic_messages.setdefault(topic, deque())
        url = self._config.urls.ws_private if private else self._config.urls.ws_public
        if not queue:
            subscribe = {"op": "subscribe", "req_id": str(self._ex.request_id()), "args": [topic]}
            try:
                if private:
                    await self._ex.authenticate(url)
                await self._ex.watch(url, topic, subscribe, topic)
            except ccxt.BaseError as exc:
                raise _stream_error(exc, topic) from exc
        messages = list(queue)
        queue.clear()
        return messages

    async def reconnect(self, *, private: bool) -> None:
        """Close a stream's socket (a stale one): pending receives fail, the next reconnects."""
        url = self._config.urls.ws_private if private else self._config.urls.ws_public
        client = self._ex.clients.get(url)
        if client is not None:
            await client.close()

    async def close(self) -> None:
        await self._ex.close()


def _ack_hash(req_id: object) -> str:
    return f"subscribe-ack:{req_id}"


def _stream_error(exc: ccxt.BaseError, topic: str) -> TradeplayError:
    error = translate_ccxt_error(exc, venue="bybit", symbol="")
    if isinstance(error, VenueUnavailableError):
        return VenueUnavailableError(f"bybit stream {topic} dropped: {exc}")
    return error
