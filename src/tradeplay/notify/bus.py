"""The event bus: publishers and subscribers that never see each other.

Why synchronous dispatch with an asyncio hand-off: the runtime runs engines in worker threads
and its shells (Telegram, the dashboard, metrics) in one asyncio loop. ``publish`` may be called
from any thread and calls each matching handler right there, in publish order. Handlers must
therefore be quick and never block — a counter, a log line, or handing the event over to an
asyncio consumer through :class:`EventQueue`, which only schedules a ``put`` on the consumer's
loop. A slow Telegram call then delays nobody: it waits in its own loop, not in the engine's
thread, and an engine's bar-to-order latency never depends on who listens.

A handler that raises is logged and skipped; the publisher and the other handlers carry on.
Buses are objects handed to whoever needs one; nothing here is global.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import structlog

from tradeplay.notify.events import Event

log = structlog.get_logger(__name__)

Handler = Callable[[Event], None]
"""Receives one event; must return quickly (see the module docstring)."""


class Subscription(Protocol):
    def cancel(self) -> None:
        """Stop delivering events to this handler (idempotent)."""
        ...


@runtime_checkable
class EventBus(Protocol):
    """Where events go. The in-process :class:`LocalBus` and the Redis bus implement it."""

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every matching subscriber; never raises for a subscriber."""
        ...

    def subscribe(self, handler: Handler, *kinds: type[Event]) -> Subscription:
        """Call ``handler`` for each event of ``kinds`` (any event when none is given)."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class _Subscriber:
    handler: Handler
    kinds: tuple[type[Event], ...]
    bus: LocalBus = field(repr=False)

    def wants(self, event: Event) -> bool:
        return not self.kinds or isinstance(event, self.kinds)

    def cancel(self) -> None:
        self.bus._remove(self)


class LocalBus:
    """The in-process bus (the default): thread-safe, synchronous, in publish order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Replaced, never mutated: publish iterates a snapshot without holding the lock, so a
        # handler may subscribe or cancel while being called.
        self._subscribers: tuple[_Subscriber, ...] = ()

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:
            if subscriber.wants(event):
                _deliver(subscriber.handler, event)

    def subscribe(self, handler: Handler, *kinds: type[Event]) -> Subscription:
        subscriber = _Subscriber(handler, kinds, self)
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
        return subscriber

    def _remove(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)


def _deliver(handler: Handler, event: Event) -> None:
    try:
        handler(event)
    except Exception:  # any subscriber bug: report it, keep trading
        log.exception(
            "event_handler_failed",
            handler=getattr(handler, "__qualname__", repr(handler)),
            event_type=type(event).__name__,
            environment=event.environment,
        )


class EventQueue:
    """A handler that hands events to an asyncio consumer, from any thread, without blocking.

    ::

        queue = EventQueue(asyncio.get_running_loop())
        bus.subscribe(queue, OrderFilled, EmergencyDeclared)
        async for event in queue:
            await telegram.send(render(event))

    The queue is bounded: when the consumer falls ``maxsize`` events behind, new events are
    dropped (counted in :attr:`dropped` and logged) rather than letting memory grow or making
    the publisher wait.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 10_000) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        self._loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("event_dropped", event_type=type(event).__name__, dropped=self.dropped)

    async def get(self) -> Event:
        return await self._queue.get()

    def __aiter__(self) -> EventQueue:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()
