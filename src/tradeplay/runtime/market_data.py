"""Market data shared read-only: one kline stream per public source, symbol and timeframe.

Demo and live both read Bybit mainnet's public stream (so do shadow and paper); testnet reads
its own; an emulator is a source of its own. Every environment of a deployment that trades a
symbol on a timeframe from the same source reads the same bars, so :class:`MarketData` opens
one subscription for them all and fans each closed bar out::

    MarketData ─┬─ source wss://stream.bybit.com … ── VenueSession (no keys: its loop, client)
                │     ├─ kline.1.BTCUSDT ── ClosedBars ─┬─ Subscription btc@demo ─ pump ─► sink
                │     │                                 └─ Subscription btc@live ─ pump ─► sink
                │     └─ kline.1.ETHUSDT …
                └─ source wss://stream-testnet.bybit.com …

The guarantees of a stream of one's own hold for every reader:

* **warm-up seeds the stream** — :meth:`Subscription.history` reads the last bars over REST and
  places the reader right after them: the first bar it receives continues its history. A reader
  joining a stream that already runs gets the bars its REST answer did not have yet from the
  stream's recent bars, and skips the ones its answer already had;
* **no bar missed or doubled** across reconnects — :class:`~tradeplay.venues.bybit.streams.
  ClosedBars` under :func:`~tradeplay.venues.bybit.streams.supervise` fills gaps from REST and
  drops repeats; each reader also drops whatever is not newer than its last bar;
* **heartbeat** — a stream silent for ``stale_after_s`` is reconnected.

Readers only read: each bar is one float row marked read-only, the same array for all of them.
Each reader has its own queue and pump thread, so a slow or failing reader delays nobody — or,
when its sink only enqueues the bar (a pair's inbox), is handed it straight from the stream. A
failure of the shared stream (a dropped socket, a failed re-sync, an error escaping the loop)
is reported to every environment reading it, as a :class:`StreamHealth`, and the stream starts
again after a backoff; an environment's own troubles (keys, a panic, its private streams) are
in its own session and never reach the shared one. Streams run until :meth:`MarketData.close`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.errors import TemporaryError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol
from tradeplay.notify import Health
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.venues.bybit.account_view import BarRange
from tradeplay.venues.bybit.config import BybitEndpoints, BybitEnvironment, VenueConfig
from tradeplay.venues.bybit.exchange import DEFAULT_TIMEOUT_S
from tradeplay.venues.bybit.market import Kline
from tradeplay.venues.bybit.streams import (
    DEFAULT_BACKOFF,
    KLINE_STALE_AFTER_S,
    Backoff,
    ClosedBars,
    supervise,
)
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["MarketData", "PublicSource", "Reader", "StreamHealth", "Subscription"]

log = structlog.get_logger(__name__)

_COLUMNS: Final = 6
_RECENT: Final = 256
"""Bars a stream remembers for readers who join late (REST lags the stream by a bar or two)."""

RowSink = Callable[[NDArray[np.float64]], None]


@dataclass(frozen=True, slots=True)
class PublicSource:
    """Where public market data comes from: a REST root and a public stream.

    Two environments with the same source read the same bars. Demo's REST host is its own, but
    its market data is mainnet's (:mod:`tradeplay.venues.bybit.config`): it reads mainnet.
    """

    rest: str
    ws_public: str
    network: BybitEnvironment = dataclasses.field(default=BybitEnvironment.MAINNET, compare=False)
    """Only a label when the hosts were replaced (an emulator serves every network alike)."""

    @classmethod
    def of(cls, config: VenueConfig) -> PublicSource:
        if config.endpoints is not None:
            return cls(config.endpoints.rest, config.endpoints.ws_public, config.environment)
        testnet = config.environment is BybitEnvironment.TESTNET
        network = BybitEnvironment.TESTNET if testnet else BybitEnvironment.MAINNET
        hosts = BybitEndpoints.of(network)
        return cls(hosts.rest, hosts.ws_public, network)

    def config(self, stale_after_s: float) -> VenueConfig:
        """A session without keys: public endpoints only."""
        endpoints = BybitEndpoints(self.rest, self.ws_public, self.ws_public)
        return VenueConfig(
            environment=self.network, endpoints=endpoints, kline_stale_after_s=stale_after_s
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reader:
    """Who reads a stream: a pair of an environment, and that environment's venue — whose
    account view is shown every bar (it judges what the bar may have triggered) and whose
    latency probe, when set, is told when a bar's message arrived."""

    environment: str
    name: str
    venue: BybitVenue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamHealth:
    """A shared stream's state, told to one environment that reads it."""

    environment: str
    component: str
    health: Health
    detail: str


HealthSink = Callable[[StreamHealth], None]


class Subscription:
    """One reader's share of a stream: its warm-up, then each later closed bar once, in order.

    :meth:`history` first (from any thread but the source's loop), then :meth:`start`;
    :meth:`close` leaves the stream (which goes on for the others).
    """

    def __init__(self, stream: _SharedBars, reader: Reader) -> None:
        self._stream = stream
        self.reader = reader
        self.last_start_ms: int | None = None
        """The open time of the last bar this reader has (loop side only)."""
        self._rows: queue.Queue[NDArray[np.float64] | None] = queue.Queue()
        self._pump: threading.Thread | None = None
        self._direct: RowSink | None = None

    @property
    def topic(self) -> str:
        return self._stream.bars.topic

    def history(self, bars: int) -> NDArray[np.float64]:
        """The last ``bars`` closed bars as an ``(n, 6)`` matrix (ending with the stream's
        own when REST lags it); the live bars this reader receives continue it."""
        closed = self._stream.session.run(self._stream.join(self, bars), DEFAULT_TIMEOUT_S)
        if not closed:
            return np.empty((0, _COLUMNS), dtype=np.float64)
        return np.vstack([bar.row() for bar in closed])

    def start(self, sink: RowSink, *, enqueues: bool = False) -> None:
        """Hand each closed bar to ``sink`` from a thread of this reader's own — or, when the
        sink only puts the bar on a queue of its own (``enqueues``), straight from the stream:
        it cannot hold the others up, and a bar wakes one thread fewer."""
        if enqueues:  # on the stream's loop, so no bar offered meanwhile is lost or reordered
            self._stream.session.run(self._from_now(sink), DEFAULT_TIMEOUT_S)
        else:
            self._pump = threading.Thread(
                target=self._deliver, args=(sink,), name=f"bars-{self.reader.name}", daemon=True
            )
            self._pump.start()
        self._stream.start()

    def close(self) -> None:
        self._stream.leave(self)
        self.end()
        if self._pump is not None and self._pump is not threading.current_thread():
            self._pump.join(timeout=5.0)

    def end(self) -> None:
        """End the pump after the bars already queued (thread-safe)."""
        self._rows.put_nowait(None)

    def offer(self, bar: Kline, row: NDArray[np.float64]) -> None:
        """On the loop: take ``bar`` unless this reader already has it."""
        if self.last_start_ms is not None and bar.start_ms <= self.last_start_ms:
            return
        self.last_start_ms = bar.start_ms
        venue = self.reader.venue
        if venue is not None:  # before the engine can read the account at this bar
            end_ms = bar.start_ms + self._stream.bars.timeframe.ms
            venue.view.bar_closed(
                self._stream.bars.symbol, BarRange(bar.start_ms, end_ms, bar.low, bar.high)
            )
        if self._direct is not None:
            self._direct(row)
        else:
            self._rows.put_nowait(row)

    async def _from_now(self, sink: RowSink) -> None:
        """Hand ``sink`` the bars queued since the warm-up, then every bar as it comes."""
        while not self._rows.empty():
            row = self._rows.get_nowait()
            if row is not None:
                sink(row)
        self._direct = sink

    def _deliver(self, sink: RowSink) -> None:
        while (row := self._rows.get()) is not None:
            try:
                sink(row)
            except Exception:  # the reader's own failure: its pair reports it; others go on
                log.exception("bar_not_delivered", reader=self.reader.name, topic=self.topic)


class _Source:
    """One public source: a session without keys, its loop, and its streams."""

    def __init__(
        self, source: PublicSource, hub: MarketData, symbol: Symbol, timeframe: Timeframe
    ) -> None:
        self.source = source
        self.hub = hub
        # The session's own feed (of the first symbol) is never streamed: topics are ours.
        self.session = VenueSession(source.config(hub.stale_after_s), symbol, timeframe)
        self.venue = self.session.venue
        self.venue.probe = self._probe
        self.loop = self.session.loop
        self.stop = self.session.stopping
        self.streams: dict[tuple[Symbol, Timeframe], _SharedBars] = {}
        self.venues: tuple[BybitVenue, ...] = ()
        """The readers' venues, for their latency probes (loop side only)."""

    def stream(self, symbol: Symbol, timeframe: Timeframe) -> _SharedBars:
        found = self.streams.get((symbol, timeframe))
        if found is None:
            found = self.streams[symbol, timeframe] = _SharedBars(self, symbol, timeframe)
        return found

    def _probe(self, event: str, ns: int) -> None:
        for venue in self.venues:
            if venue.probe is not None:
                venue.probe(event, ns)

    def close(self) -> None:
        for stream in self.streams.values():
            stream.close()
        self.session.close()


class _SharedBars:
    """One topic of a source, read by many. Its state changes on the source's loop only."""

    def __init__(self, source: _Source, symbol: Symbol, timeframe: Timeframe) -> None:
        self.source = source
        self.session = source.session
        self.bars = ClosedBars(source.venue, symbol, timeframe, self._fan_out)
        self._recent: deque[Kline] = deque(maxlen=_RECENT)
        self.readers: list[Subscription] = []
        """Who reads it (loop side only)."""
        self._task: concurrent.futures.Future[None] | None = None
        self._down = False

    @property
    def component(self) -> str:
        return f"market data {self.bars.topic}"

    # -- from the supervisor's thread --------------------------------------------------------

    def start(self) -> None:
        """Subscribe, once, when the first reader starts."""
        if self._task is None:
            self._task = asyncio.run_coroutine_threadsafe(self._run(), self.source.loop)

    def leave(self, reader: Subscription) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nothing reads any more
            self.source.loop.call_soon_threadsafe(self._remove, reader)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for reader in list(self.readers):
            reader.end()

    # -- on the loop -------------------------------------------------------------------------

    async def join(self, reader: Subscription, bars: int) -> list[Kline]:
        """``reader``'s warm-up, and its place in the stream right after it."""
        stream = self.bars
        closed = await self.source.venue.recent_klines(stream.symbol, stream.timeframe, bars)
        # No await below: no bar can be emitted between reading the stream's position and
        # placing the reader.
        last = stream.last_start_ms
        if last is None and closed:  # the first reader seeds the stream
            stream.last_start_ms = closed[-1].start_ms
            self._recent.extend(closed)
        elif last is not None and closed and closed[-1].start_ms < last:
            closed = [*closed, *self._since(closed[-1].start_ms)][-bars:]
        reader.last_start_ms = closed[-1].start_ms if closed else last
        if reader not in self.readers:
            self.readers.append(reader)
            self._known_readers()
        return closed

    def _since(self, start_ms: int) -> list[Kline]:
        """The bars the stream passed on after ``start_ms``, from its memory."""
        newer = [bar for bar in self._recent if bar.start_ms > start_ms]
        if not newer or newer[0].start_ms != start_ms + self.bars.timeframe.ms:
            raise TemporaryError(
                f"{self.bars.topic}: the venue's REST klines end at {start_ms}, more than "
                f"{_RECENT} bars behind its stream; try again"
            )
        return newer

    def _remove(self, reader: Subscription) -> None:
        if reader in self.readers:
            self.readers.remove(reader)
            self._known_readers()

    def _known_readers(self) -> None:
        venues = {
            id(r.reader.venue): r.reader.venue
            for stream in self.source.streams.values()
            for r in stream.readers
            if r.reader.venue is not None
        }
        self.source.venues = tuple(venues.values())

    def _fan_out(self, bar: Kline) -> None:
        self._recent.append(bar)
        row = bar.row()
        row.flags.writeable = False  # one row for every reader, read-only
        for reader in self.readers:
            try:
                reader.offer(bar, row)
            except Exception:  # a reader's account view failing must not stop the others
                log.exception("bar_not_offered", reader=reader.reader.name, topic=self.bars.topic)

    async def _run(self) -> None:
        """Supervise the topic until the source stops; whatever escapes it (not a dropped
        socket, which ``supervise`` handles) is reported and the topic starts again."""
        hub, stop = self.source.hub, self.source.stop
        spec = dataclasses.replace(
            self.bars.spec(hub.backoff, hub.stale_after_s), resync=self._resync, on_lost=self._lost
        )
        failures = 0
        while not stop.is_set():
            try:
                await supervise(self.source.venue, spec, stop=stop)
            except Exception as error:
                failures += 1
                log.exception("market_data_failed", topic=self.bars.topic, failures=failures)
                self._report(Health.RESTARTING, f"{type(error).__name__}: {error}")
                self._down = True
                await _wait(stop, hub.backoff.wait(failures))

    async def _resync(self) -> None:
        await self.bars.resync()
        if self._down:
            self._down = False
            self._report(Health.OK, "re-synced: no bar missed")

    def _lost(self) -> None:
        if not self._down:
            self._down = True
            self._report(Health.DEGRADED, "the stream dropped; bars resume after its re-sync")

    def _report(self, health: Health, detail: str) -> None:
        where = f"{detail} ({self.source.source.ws_public})"
        for environment in dict.fromkeys(r.reader.environment for r in self.readers):
            report = StreamHealth(
                environment=environment, component=self.component, health=health, detail=where
            )
            self.source.hub.tell(report)


class MarketData:
    """The process's shared market data. Thread-safe; close it when the process stops.

    ``on_health`` hears of each shared stream's failures and recoveries, once per environment
    reading it, from a thread of the hub's own (never from a stream's loop).
    """

    def __init__(
        self,
        *,
        on_health: HealthSink = lambda _report: None,
        stale_after_s: float = KLINE_STALE_AFTER_S,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.stale_after_s = stale_after_s
        self.backoff = backoff
        self._on_health = on_health
        self._lock = threading.Lock()
        self._sources: dict[PublicSource, _Source] = {}
        self._reports = _reporter()

    def subscribe(
        self, source: PublicSource, symbol: Symbol, timeframe: Timeframe, reader: Reader
    ) -> Subscription:
        """A share of ``symbol``'s ``timeframe`` bars from ``source`` (opened on first use)."""
        with self._lock:
            found = self._sources.get(source)
            if found is None:
                found = self._sources[source] = _Source(source, self, symbol, timeframe)
            return Subscription(found.stream(symbol, timeframe), reader)

    def topics(self) -> dict[PublicSource, list[str]]:
        """The topics open per source."""
        with self._lock:
            return {
                source: [stream.bars.topic for stream in found.streams.values()]
                for source, found in self._sources.items()
            }

    def tell(self, report: StreamHealth) -> None:
        with contextlib.suppress(RuntimeError):  # closed: nobody listens any more
            self._reports.submit(self._on_health, report)

    def close(self) -> None:
        """Stop every stream and close every source; the hub may be used again afterwards."""
        with self._lock:
            sources, self._sources = list(self._sources.values()), {}
            reports, self._reports = self._reports, _reporter()
        reports.shutdown(wait=False)  # what was told is still delivered
        for source in sources:
            try:
                source.close()
            except Exception:  # one source failing to close must not keep the others open
                log.exception("market_data_not_closed", source=source.source.ws_public)


def _reporter() -> concurrent.futures.ThreadPoolExecutor:
    """One thread, so an environment hears of a stream's failure and recovery in order."""
    return concurrent.futures.ThreadPoolExecutor(1, "market-data-health")


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
