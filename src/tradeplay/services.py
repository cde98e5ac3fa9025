"""Use cases. The CLI (and later the API) parse input, call these, and render what they return.

Every function takes the settings it needs explicitly; none of them prints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import structlog

from tradeplay.backtesting import BacktestOutcome, BacktestRequest, backtest_play
from tradeplay.data.candles import Candles
from tradeplay.data.download import (
    DownloadReport,
    HistorySource,
    download_candles,
    download_funding,
)
from tradeplay.data.gaps import Gap, GapPolicy, find_gaps
from tradeplay.data.importer import ImportReport, import_candles, import_funding
from tradeplay.data.resample import resample
from tradeplay.data.sample import SAMPLE_EXCHANGE, ensure_sample_market
from tradeplay.data.store import CandleStore, DatasetInfo, DatasetKey
from tradeplay.domain.errors import ConfigError, InputError, TemporaryError, VenueRejectedError
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.timeframe import Timeframe
from tradeplay.graduation import Decision, Ladder
from tradeplay.notify import EventBus, LocalBus
from tradeplay.play import CheckReport, check_play, load_play, show_play
from tradeplay.ports import Clock, Progress
from tradeplay.runtime import emergency
from tradeplay.runtime.backtest_stage import judge_backtest_stage
from tradeplay.runtime.deployment import load_deployment
from tradeplay.runtime.live import (
    LiveRun,
    RunEnvironment,
    RunOutcome,
    confirm_live,
    credentials_for,
    run_play_live,
)
from tradeplay.runtime.pipeline import Pipeline, PlayStanding
from tradeplay.runtime.preflight import Preflight
from tradeplay.runtime.runner import BarStep
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.settings import Settings, without_password
from tradeplay.store import (
    SECRET_KEY_ENV,
    Database,
    DeploymentState,
    EquitySnapshot,
    GraduationDecision,
    KeyRing,
    SecretCipher,
    StoredKey,
    StoredPlacement,
    default_url,
)
from tradeplay.store import Deployment as StoredDeployment
from tradeplay.store.deployments import PanicRequest

log = structlog.get_logger(__name__)

SourceFactory = Callable[[str], HistorySource]

QUICKSTART_SYMBOL = "BTCUSDT"
QUICKSTART_TIMEFRAME = Timeframe.parse("1h")
QUICKSTART_DAYS = 365
DAY_MS = 86_400_000


def open_store(settings: Settings) -> CandleStore:
    return CandleStore(settings.store_root)


def list_datasets(settings: Settings) -> list[DatasetInfo]:
    return open_store(settings).list_datasets()


@dataclass(frozen=True, slots=True)
class DatasetDetails:
    """One dataset with what a trader checks first: its span, last price and gaps."""

    info: DatasetInfo
    first_close: float | None
    last_close: float | None
    gaps: list[Gap]


def dataset_details(settings: Settings, key: DatasetKey) -> DatasetDetails:
    store = open_store(settings)
    info = store.info(key)
    if key.timeframe is None:
        return DatasetDetails(info, None, None, [])
    candles = store.load_candles(key)
    closes = candles.close
    return DatasetDetails(
        info=info,
        first_close=float(closes[0]) if len(candles) else None,
        last_close=float(closes[-1]) if len(candles) else None,
        gaps=find_gaps(candles.ts, key.timeframe),
    )


def gap_report(settings: Settings, key: DatasetKey) -> list[Gap]:
    if key.timeframe is None:
        raise InputError("gap reports are for candle datasets; give a --timeframe")
    candles = open_store(settings).load_candles(key)
    return find_gaps(candles.ts, key.timeframe)


def import_file(
    settings: Settings, path: Path, key: DatasetKey, gap_policy: GapPolicy
) -> ImportReport:
    store = open_store(settings)
    if key.timeframe is None:
        return import_funding(store, path, key.exchange, key.symbol)
    return import_candles(store, path, key, gap_policy)


def resample_dataset(settings: Settings, key: DatasetKey, target: Timeframe) -> DatasetInfo:
    """Build ``target`` bars from a stored base dataset and store them beside it."""
    if key.timeframe is None:
        raise InputError("resampling needs a candle dataset; give the base --timeframe")
    store = open_store(settings)
    base_info = store.info(key)
    bars: Candles = resample(store.load_candles(key), key.timeframe, target)
    target_key = DatasetKey(key.exchange, key.symbol, target)
    source = f"resample: {key.exchange}/{key.symbol}/{key.timeframe} ({base_info.source})"
    return store.write_candles(target_key, bars, source=source, generated=base_info.generated)


@dataclass(frozen=True, slots=True)
class DownloadRequest:
    """What to fetch: one symbol's bars of one timeframe over ``[since_ms, until_ms)``."""

    symbol: str
    timeframe: Timeframe
    since_ms: int
    until_ms: int


def download(
    settings: Settings,
    source: HistorySource,
    request: DownloadRequest,
    *,
    now_ms: int,
    progress: Progress | None = None,
) -> tuple[DownloadReport, DownloadReport]:
    """Fetch candles, then funding rates, for one symbol; resumes where the store stops."""
    store = open_store(settings)
    until_ms = min(request.until_ms, now_ms)
    candles = download_candles(
        source,
        store,
        request.symbol,
        request.timeframe,
        request.since_ms,
        until_ms,
        now_ms=now_ms,
        progress=progress,
    )
    funding = download_funding(
        source, store, request.symbol, request.since_ms, until_ms, now_ms=now_ms
    )
    return candles, funding


@dataclass(frozen=True, slots=True)
class QuickstartResult:
    """What the main job did: real candles fetched, or the generated sample market used."""

    datasets: list[DatasetInfo]
    real_data: bool
    note: str


def quickstart(
    settings: Settings,
    *,
    offline: bool,
    source_factory: SourceFactory,
    now_ms: int,
    progress: Progress | None = None,
) -> QuickstartResult:
    """The README's main job: get market data onto this machine and show it.

    With a network, the last two weeks of real BTCUSDT 1-minute candles and funding come from
    Bybit's public API (resuming on later runs). Without one, or with ``offline``, a deterministic
    generated market stands in, labelled as generated wherever it appears.
    """
    store = open_store(settings)
    if not offline:
        since = now_ms - QUICKSTART_DAYS * DAY_MS
        try:
            source = source_factory("bybit")
            request = DownloadRequest(QUICKSTART_SYMBOL, QUICKSTART_TIMEFRAME, since, now_ms)
            download(settings, source, request, now_ms=now_ms, progress=progress)
        except (TemporaryError, VenueRejectedError) as exc:
            log.warning("quickstart_offline", reason=str(exc))
            note = f"Bybit could not be used ({exc}); using the generated sample market instead."
            return _with_sample(settings, store, note)
        note = f"Fetched real {QUICKSTART_SYMBOL} {QUICKSTART_TIMEFRAME} candles from Bybit."
        return QuickstartResult(store.list_datasets(), real_data=True, note=note)
    return _with_sample(settings, store, "Offline: using the generated sample market.")


def _with_sample(settings: Settings, store: CandleStore, note: str) -> QuickstartResult:
    ensure_sample_market(store, seed=settings.sample_seed)
    note += (
        f" Its prices are generated, not real (exchange '{SAMPLE_EXCHANGE}')."
        " Run `tradeplay data download BTCUSDT` with a network to fetch real candles."
    )
    return QuickstartResult(store.list_datasets(), real_data=False, note=note)


def check_play_file(path: Path) -> CheckReport:
    """Validate a play file and say what was checked; PlayError explains what is wrong."""
    return check_play(path)


def show_play_file(path: Path) -> str:
    """The compiled play as a trader reads it: features, warm-up, rules, protections."""
    return show_play(path)


def run_backtest_file(
    settings: Settings,
    play_path: Path,
    request: BacktestRequest,
    progress: Progress | None = None,
) -> BacktestOutcome:
    """Backtest a play file on the best stored data for it and write the report."""
    return backtest_play(open_store(settings), load_play(play_path), request, progress)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveRunRequest:
    """``tradeplay run``: which environment, where, and how far it may go."""

    environment: RunEnvironment
    symbol: str | None = None
    emulator_url: str | None = None
    confirm: bool = False
    max_bars: int | None = None


def run_play_file(
    play_path: Path,
    request: LiveRunRequest,
    environ: Mapping[str, str],
    *,
    on_preflight: Callable[[Preflight], None],
    on_step: Callable[[BarStep], None],
    stop: threading.Event | None = None,
) -> RunOutcome:
    """Run a play file live in one environment until ``stop`` (see :mod:`tradeplay.runtime.live`).

    Live trading is refused unless confirmed twice; keys come from ``environ``
    (``BYBIT_{LIVE,DEMO,TESTNET}_API_KEY`` / ``_API_SECRET``), never from a file.
    """
    confirm_live(request.environment, confirm=request.confirm, env=environ)
    play = load_play(play_path)
    environment = request.environment
    run = LiveRun(
        play=play,
        environment=environment,
        symbol=request.symbol or play.play.instruments[0],
        emulator_url=request.emulator_url,
        credentials=None if environment.local_fills else credentials_for(environment, environ),
        max_bars=request.max_bars,
    )
    log.info("live_run_starting", play=play.name, environment=str(environment), symbol=run.symbol)
    return run_play_live(run, on_preflight=on_preflight, on_step=on_step, stop=stop)


def default_run_folder(settings: Settings, play_path: Path) -> Path:
    """Where a backtest's files go when the trader names no folder."""
    return settings.data_home / "runs" / play_path.stem


# --- deployments: several environments in one process (issue 7) ------------------------------


def open_state(settings: Settings) -> Database:
    """The state database of the settings (SQLite in the data home unless a URL is set)."""
    return Database.open(settings.database_url or default_url(settings.data_home))


def key_ring(database: Database, environ: Mapping[str, str]) -> KeyRing:
    return KeyRing(database.transaction, SecretCipher.from_environment(environ))


def up_deployment(
    settings: Settings,
    path: Path,
    environ: Mapping[str, str],
    *,
    confirm: bool,
    stop: threading.Event,
) -> None:
    """Run every pair of a deployment file in this process until ``stop``. Its events go to
    the Redis of ``settings.redis_url`` when set (several processes share one), else they stay
    in this process; an unreachable Redis is a :class:`TemporaryError` before anything starts."""
    deployment = load_deployment(path, environ)
    for spec in deployment.model.environments.values():
        confirm_live(spec.kind, confirm=confirm, env=environ)
    with _event_bus(settings.redis_url) as bus:
        database = open_state(settings)
        try:
            keys = key_ring(database, environ) if environ.get(SECRET_KEY_ENV) else None
            options = SupervisorOptions(environ=environ, keys=keys)
            supervisor = Supervisor(deployment, database, bus, SystemClock(), options)
            supervisor.run(stop)
        finally:
            database.close()


_REDIS_CONNECT_S = 5.0


@contextmanager
def _event_bus(redis_url: str | None) -> Iterator[EventBus]:
    """The in-process bus, or the Redis bus at ``redis_url`` once Redis answered a ping."""
    if redis_url is None:
        yield LocalBus()
        return
    try:  # an optional extra: only a Redis deployment needs the client
        import redis  # noqa: PLC0415

        from tradeplay.notify.redis_bus import RedisBus  # noqa: PLC0415
    except ImportError:
        raise ConfigError(
            "TRADEPLAY_REDIS_URL is set but the Redis client is not installed: "
            "pip install 'tradeplay[redis]'"
        ) from None
    shown = without_password(redis_url)
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=_REDIS_CONNECT_S)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        raise TemporaryError(
            f"the event bus's Redis at {shown} is not reachable ({type(error).__name__}); "
            "start it, or unset TRADEPLAY_REDIS_URL to keep the events in this process"
        ) from None
    log.info("event_bus_connected", redis=shown)
    with RedisBus(client) as bus:
        yield bus


@dataclass(frozen=True, slots=True)
class EnvironmentStatus:
    """What ``tradeplay status`` shows of one environment."""

    name: str
    deployments: list[StoredDeployment]
    equity: EquitySnapshot | None
    daily_pnl: Decimal | None
    positions: list[Position]
    open_orders: list[Order]


def deployment_status(settings: Settings, clock: Clock) -> list[EnvironmentStatus]:
    database = open_state(settings)
    try:
        stored = database.deployments.all()
        names = list(dict.fromkeys(d.environment for d in stored))
        midnight = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        found = []
        for name in names:
            today = database.equity.curve(name, since=midnight)
            curve = today or database.equity.curve(name)
            latest = curve[-1] if curve else None
            found.append(
                EnvironmentStatus(
                    name=name,
                    deployments=[d for d in stored if d.environment == name],
                    equity=latest,
                    daily_pnl=today[-1].equity - today[0].equity if today else None,
                    positions=[p for p in database.positions.all(name) if not p.is_flat],
                    open_orders=database.orders.open(name),
                )
            )
        return found
    finally:
        database.close()


_REQUESTS: Mapping[str, DeploymentState] = {
    "pause": DeploymentState.PAUSED,
    "resume": DeploymentState.RUNNING,
    "stop": DeploymentState.STOPPING,
}


def request_deployments(
    settings: Settings, target: str, action: str, clock: Clock
) -> list[StoredDeployment]:
    """Ask the running supervisor to pause, resume or stop every pair of ``target`` (a play or
    an environment): the stored state moves, the supervisor applies it at its next poll."""
    database = open_state(settings)
    try:
        chosen = [d for d in database.deployments.all() if target in (d.environment, d.name)]
        if not chosen:
            raise InputError(f"no deployed play or environment is called {target!r}")
        return [
            database.deployments.move(d.environment, d.name, _REQUESTS[action], clock.now())
            for d in chosen
        ]
    finally:
        database.close()


def request_panic(settings: Settings, target: str, clock: Clock) -> list[PanicRequest]:
    """Ask the running deployment to panic ``target`` (an environment, or ``all``): the
    requests stored (see :mod:`tradeplay.runtime.emergency`); :class:`InputError` when no such
    environment was ever deployed."""
    database = open_state(settings)
    try:
        return emergency.request_panic(database, target, clock)
    finally:
        database.close()


def await_panics(
    settings: Settings, requests: Sequence[PanicRequest], timeout_s: float
) -> list[PanicRequest]:
    """The panic ``requests`` as stored once the running deployment applied every one, or
    when ``timeout_s`` has passed (the unapplied ones still without ``applied_at``)."""
    database = open_state(settings)
    try:
        return emergency.await_panics(database, requests, timeout_s)
    finally:
        database.close()


def add_key(
    settings: Settings, environ: Mapping[str, str], name: str, api_key: str, api_secret: str
) -> StoredKey:
    database = open_state(settings)
    try:
        return key_ring(database, environ).add(name, api_key, api_secret, SystemClock().now())
    finally:
        database.close()


def list_keys(settings: Settings, environ: Mapping[str, str]) -> list[StoredKey]:
    database = open_state(settings)
    try:
        return key_ring(database, environ).list()
    finally:
        database.close()


def remove_key(settings: Settings, environ: Mapping[str, str], name: str) -> None:
    database = open_state(settings)
    try:
        key_ring(database, environ).remove(name)
    finally:
        database.close()


# ---------------------------------------------------------------------------- the pipeline


def _pipeline(
    database: Database, deployment: Path | None, environ: Mapping[str, str], clock: Clock
) -> Pipeline:
    ladder = Ladder() if deployment is None else load_deployment(deployment, environ).model.pipeline
    return Pipeline(database.graduations, ladder, clock)


def pipeline_status(
    settings: Settings, deployment: Path | None, environ: Mapping[str, str], clock: Clock
) -> list[PlayStanding]:
    """Every play in the pipeline: its stage, share and last decision."""
    database = open_state(settings)
    try:
        return _pipeline(database, deployment, environ, clock).status()
    finally:
        database.close()


def pipeline_move(
    settings: Settings,
    deployment: Path | None,
    environ: Mapping[str, str],
    clock: Clock,
    *,
    play: str,
    up: bool,
    reason: str,
) -> Decision:
    """The operator promotes (``up``) or demotes ``play`` one stage, saying why."""
    database = open_state(settings)
    try:
        pipeline = _pipeline(database, deployment, environ, clock)
        return pipeline.promote(play, reason) if up else pipeline.demote(play, reason)
    finally:
        database.close()


def pipeline_release(
    settings: Settings, clock: Clock, *, play: str, reason: str
) -> StoredPlacement:
    """The operator says ``play``'s pair where its move was held is flat: it trades again."""
    database = open_state(settings)
    try:
        return _pipeline(database, None, {}, clock).operator_release(play, reason)
    finally:
        database.close()


def pipeline_backtest(
    settings: Settings,
    deployment: Path,
    environ: Mapping[str, str],
    clock: Clock,
    *,
    play: str,
    out_of_sample_from: datetime,
    until: datetime | None = None,
) -> Decision:
    """Judge ``play`` in the backtest stage on stored bars from ``out_of_sample_from`` on."""
    loaded = load_deployment(deployment, environ)
    database = open_state(settings)
    try:
        pipeline = Pipeline(database.graduations, loaded.model.pipeline, clock)
        return judge_backtest_stage(
            pipeline,
            loaded,
            play,
            open_store(settings),
            out_of_sample_from=out_of_sample_from,
            until=until,
        )
    finally:
        database.close()


def pipeline_history(settings: Settings, play: str, clock: Clock) -> list[GraduationDecision]:
    """Every decision about ``play``, oldest first."""
    database = open_state(settings)
    try:
        return _pipeline(database, None, {}, clock).history(play)
    finally:
        database.close()
