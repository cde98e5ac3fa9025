"""The emulator as a server: REST and WebSocket on one port, the replay clock, a test handle.

::

    options = EmulatorOptions(port=8080, speed=ReplaySpeed.parse("x60"))
    emulator = Emulator(market, accounts, options)
    await emulator.start()        # http://127.0.0.1:8080 and ws://127.0.0.1:8080/v5/...
    ...
    await emulator.stop()

Tests that drive synchronous clients (pybit) use :class:`EmulatorThread`, which runs the
emulator on its own event loop in a background thread and offers ``step()`` to the test.

Replay pace (:class:`~tradeplay.emulator.config.ReplaySpeed`):

* ``step`` — bars move only when ``step()`` is called (tests);
* ``x<N>`` / ``realtime`` — one base bar every ``bar length / N`` of wall time;
* ``max`` — one bar after the other, each only when every subscriber has been sent the last
  one (the socket buffers drained): as fast as the clients keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import structlog
from aiohttp import web

from tradeplay.emulator.config import AccountSpec, Pace, ReplaySpeed, index_accounts
from tradeplay.emulator.faults import FaultKind, Faults
from tradeplay.emulator.market import Market
from tradeplay.emulator.rest import RestApi
from tradeplay.emulator.streams import Streams
from tradeplay.emulator.venue import Venue
from tradeplay.ports import Clock

__all__ = ["Emulator", "EmulatorOptions", "EmulatorThread", "WallClock"]

log = structlog.get_logger(__name__)

T = TypeVar("T")
_WS_PATHS: Final = ("/v5/private", "/v5/public/linear", "/v5/public/spot", "/v5/public/inverse")
_DEFAULT_HISTORY_BARS: Final = 1000


class WallClock:
    """The real time. The emulator is a shell around the core: authentication compares a
    client's signing time with this clock, as Bybit compares it with its own."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    """0: an ephemeral port chosen by the system (read it from :attr:`Emulator.port`)."""
    speed: ReplaySpeed = field(default_factory=lambda: ReplaySpeed(Pace.STEPPED))
    start_ms: int | None = None
    """Bars closing at or before this time are history when the replay starts; default: the
    first 1000 bars (or half the data when it is shorter)."""
    enforce_rate_limits: bool = True
    seed: int = 0
    """Seed of the order and execution ids."""
    idle_timeout_s: float = 600.0


class Emulator:
    """A Bybit V5 server on localhost, backed by the simulated exchange."""

    def __init__(
        self,
        market: Market,
        accounts: Sequence[AccountSpec],
        options: EmulatorOptions | None = None,
        *,
        faults: Faults | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = options or EmulatorOptions()
        self.market = market
        self.faults = faults or Faults()
        self._clock = clock or WallClock()
        by_key = index_accounts(accounts, "accounts")
        self.venue = Venue(market, accounts, seed=self.options.seed)
        self.streams = Streams(
            market,
            by_key,
            self.faults,
            self.now_ms,
            idle_timeout_s=self.options.idle_timeout_s,
        )
        self._rest = RestApi(
            self.venue,
            self.streams,
            self.faults,
            self.now_ms,
            enforce_rate_limits=self.options.enforce_rate_limits,
        )
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._site: web.TCPSite | None = None
        self.port = self.options.port
        self.bars_replayed = 0
        self.messages_published = 0
        self._start_replay_position()

    def now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def _start_replay_position(self) -> None:
        if self.options.start_ms is not None:
            self.market.start_at(self.options.start_ms)
            return
        shortest = min(len(s.bars) for s in self.market.symbols.values())
        history = min(_DEFAULT_HISTORY_BARS, max(1, shortest // 2))
        first = min(int(s.bars[0, 0]) for s in self.market.symbols.values())
        self.market.start_at(first + history * self.market.timeframe.ms)

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.options.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        for path in _WS_PATHS:
            app.router.add_get(path, self.streams.handle)
        app.router.add_route("*", "/{tail:.*}", self._rest.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.options.host, self.options.port)
        await self._site.start()
        server = self._site._server  # the bound socket tells the ephemeral port
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]
        if self.options.speed.pace is not Pace.STEPPED:
            self._tasks.append(asyncio.create_task(self._replay()))
        for rule in self.faults.scheduled():
            self._tasks.append(asyncio.create_task(self._scheduled_fault(rule.kind, rule)))
        log.info("emulator_started", url=self.url, speed=str(self.options.speed))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.streams.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def serve_forever(self, on_started: Callable[[Emulator], None] | None = None) -> None:
        """Run until cancelled (the CLI's Ctrl-C); ``on_started`` is told the bound port."""
        await self.start()
        if on_started is not None:
            on_started(self)
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # ---------------------------------------------------------------- the replay

    async def step(self, bars: int = 1) -> int:
        """Reveal up to ``bars`` bars, publish them, wait until every socket was sent them;
        the number of bars revealed (fewer at the end of the data)."""
        done = 0
        for _ in range(bars):
            result = self.venue.step()
            if result is None:
                break
            self.streams.publish(result.notices)
            self.messages_published += self.streams.publish_bar(result.symbols)
            await self.streams.drained()
            done += 1
        self.bars_replayed += done
        return done

    async def _replay(self) -> None:
        speed = self.options.speed
        loop = asyncio.get_running_loop()
        interval = self.market.timeframe.ms / 1000 / speed.factor
        due = loop.time()
        while await self.step():
            if speed.pace is Pace.TIMED:
                due += interval
                await asyncio.sleep(max(0.0, due - loop.time()))
            else:
                await asyncio.sleep(0)
        log.info("replay_finished", bars=self.bars_replayed)

    async def drop_connections(self) -> int:
        """Close every WebSocket now, as Bybit sometimes does; the number closed."""
        dropped = await self.streams.drop_all()
        log.info("fault_drop", sockets=dropped)
        return dropped

    async def _scheduled_fault(self, kind: FaultKind, rule: Any) -> None:
        while True:
            await asyncio.sleep(rule.period_s)
            if kind is FaultKind.DROP:
                await self.drop_connections()
            else:
                self.faults.set_stale(True)
                log.info("fault_stale", seconds=rule.duration_s)
                await asyncio.sleep(rule.duration_s)
                self.faults.set_stale(False)


class EmulatorThread:
    """An emulator on its own event loop in a background thread, for synchronous tests.

    ``with EmulatorThread(emulator) as handle: handle.step()`` — every call runs on the
    emulator's loop and waits for it, so the emulator's state is only touched by its loop.
    """

    def __init__(self, emulator: Emulator, *, timeout_s: float = 30.0) -> None:
        self.emulator = emulator
        self._timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        self.run(self.emulator.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self.run(self.emulator.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self._timeout_s)
        self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(self._timeout_s)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the emulator's loop (for reading or changing its state)."""

        async def wrapped() -> T:
            return fn()

        return self.run(wrapped())

    def step(self, bars: int = 1) -> int:
        return self.run(self.emulator.step(bars))

    def drop_connections(self) -> int:
        return self.run(self.emulator.drop_connections())

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def ws_url(self) -> str:
        return self.emulator.ws_url
