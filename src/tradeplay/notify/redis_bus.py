"""The event bus across processes: Redis pub/sub, one channel per environment.

Every process that shares the Redis publishes to ``<prefix>:events:<environment>`` and, once
something subscribes, listens on ``<prefix>:events:*``. A listener thread decodes what arrives
and hands it to a :class:`~tradeplay.notify.bus.LocalBus`, so handlers behave exactly as
in-process ones (quick, isolated from each other's errors). A process receives its own events
through Redis like everyone else's, once.

Pub/sub delivers to whoever listens *now*: an event published while nobody listens is gone.
That fits notifications (the records of truth are in the state database), and publishing never
raises — a lost Redis is logged, and trading goes on.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import redis
import structlog
from redis.client import PubSub

from tradeplay.notify import codec
from tradeplay.notify.bus import Handler, LocalBus, Subscription
from tradeplay.notify.events import Event

log = structlog.get_logger(__name__)

DEFAULT_PREFIX: Final = "tradeplay"
_POLL_SECONDS: Final = 0.1
_MAX_BACKOFF_SECONDS: Final = 5.0
_SUBSCRIBE_TIMEOUT_SECONDS: Final = 5.0


class RedisBus:
    """An :class:`~tradeplay.notify.bus.EventBus` over Redis pub/sub. Close it when done."""

    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._local = LocalBus()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._pubsub: PubSub | None = None

    @classmethod
    def connect(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisBus:
        """A bus on the Redis at ``url`` (e.g. ``redis://127.0.0.1:6379/0``)."""
        return cls(redis.Redis.from_url(url), prefix=prefix)

    def channel(self, environment: str) -> str:
        return f"{self._prefix}:events:{environment}"

    def publish(self, event: Event) -> None:
        try:
            self._client.publish(self.channel(event.environment), codec.encode(event))
        except redis.RedisError as exc:
            log.error(
                "event_publish_failed",
                event_type=type(event).__name__,
                environment=event.environment,
                error=type(exc).__name__,
            )

    def subscribe(self, handler: Handler, *kinds: type[Event]) -> Subscription:
        """Deliver matching events from every process; listening starts with the first call
        and is confirmed by Redis before this returns (nothing published after is missed)."""
        self._listen()
        return self._local.subscribe(handler, *kinds)

    def close(self) -> None:
        """Stop listening and close the connection. Handlers get nothing afterwards."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        if self._pubsub is not None:
            self._pubsub.close()
        self._client.close()

    def __enter__(self) -> RedisBus:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- listening

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            # redis-py leaves pubsub() unannotated; it returns a PubSub.
            pubsub: PubSub = self._client.pubsub()  # type: ignore[no-untyped-call]
            pubsub.psubscribe(self.channel("*"))
            _await_confirmation(pubsub)
            self._pubsub = pubsub
            self._listener = threading.Thread(
                target=self._run, args=(pubsub,), name="tradeplay-redis-bus", daemon=True
            )
            self._listener.start()

    def _run(self, pubsub: PubSub) -> None:
        backoff = _POLL_SECONDS
        while not self._stop.is_set():
            try:
                message = pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_SECONDS)
            except (redis.RedisError, OSError, ValueError) as exc:
                if self._stop.is_set():  # closed under our feet: that is how we stop
                    return
                # redis-py reconnects and re-subscribes on the next call; wait a little first.
                log.warning("event_bus_disconnected", error=type(exc).__name__, retry_in=backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            backoff = _POLL_SECONDS
            if message is not None and message.get("type") == "pmessage":
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            event = codec.decode(message["data"])
        except codec.EventDecodeError as exc:
            log.warning("event_undecodable", channel=str(message.get("channel")), error=str(exc))
            return
        self._local.publish(event)


def _await_confirmation(pubsub: PubSub) -> None:
    """Read until Redis confirms the subscription, so events published after it arrive."""
    waited = 0.0
    while waited < _SUBSCRIBE_TIMEOUT_SECONDS:
        message = pubsub.get_message(timeout=_POLL_SECONDS)
        if message is not None and message.get("type") == "psubscribe":
            return
        waited += _POLL_SECONDS
    raise redis.TimeoutError("Redis did not confirm the event subscription in time")
