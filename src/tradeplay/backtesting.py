"""The backtest use case: pick the data, run the engine, gate the result, write the report.

The CLI's ``tradeplay backtest`` and ``tradeplay quickstart`` call :func:`backtest_play`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.resample import resample
from tradeplay.data.store import CandleStore, DatasetInfo, DatasetKey
from tradeplay.domain.errors import DataNotFoundError, InputError, RejectedError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.engine.backtest import Backtest, heap_set_aside, run_backtest
from tradeplay.play.compiler import CompiledPlay
from tradeplay.ports import Progress
from tradeplay.reports.model import DataLabel, RunResult
from tradeplay.reports.report import ReportFiles, write_report

ONE_MINUTE = Timeframe.parse("1m")


class QualityGateError(RejectedError):
    """A backtest whose result cannot be trusted or used: it never traded, or had no capital."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestRequest:
    """What the trader asked for; ``None`` fields take the play's own values."""

    symbol: str | None = None
    timeframe: Timeframe | None = None
    start_ms: int | None = None
    until_ms: int | None = None
    capital: Decimal | None = None
    out_dir: Path
    allow_no_trades: bool = False


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    result: RunResult
    files: ReportFiles
    dataset: DatasetInfo


def backtest_play(
    store: CandleStore,
    play: CompiledPlay,
    request: BacktestRequest,
    progress: Progress | None = None,
) -> BacktestOutcome:
    """Run ``play`` on the best stored data for it and write the report."""
    symbol = (request.symbol or play.play.instruments[0]).upper()
    timeframe = request.timeframe or play.play.timeframe
    if timeframe != play.play.timeframe:
        raise InputError(
            f"the play trades on {play.play.timeframe}; --timeframe {timeframe} would change "
            "its rules' meaning: edit the play's timeframe instead"
        )
    capital = request.capital if request.capital is not None else play.play.account.capital
    if not capital > 0:
        raise QualityGateError(f"quality gate failed: starting capital {capital} is not positive")
    market = load_market(store, symbol, timeframe, request.start_ms, request.until_ms)
    candles = market.candles
    backtest = Backtest(
        play=play,
        symbol=symbol,
        instrument=bybit_linear(symbol),
        candles=candles,
        data=market.label,
        capital=capital,
        funding=market.funding,
        minutes=market.minutes,
    )
    with heap_set_aside():  # a backtest command runs one backtest and nothing else
        result = run_backtest(backtest, progress)
    files = write_report(result, request.out_dir)
    if not result.trades and not request.allow_no_trades:
        raise QualityGateError(
            f"quality gate failed: the play never traded in {len(candles):,} bars "
            f"(report written to {files.folder}); check its rules with `tradeplay play show`, "
            "or pass --allow-no-trades"
        )
    return BacktestOutcome(result, files, market.dataset)


def choose_dataset(store: CandleStore, symbol: str, timeframe: Timeframe) -> DatasetInfo:
    """The stored candles to build ``timeframe`` bars from: real before generated, the same
    timeframe before a smaller one that divides it, then the most rows."""
    usable = [
        info
        for info in store.list_datasets()
        if info.key.symbol == symbol
        and info.key.timeframe is not None
        and info.key.timeframe.divides(timeframe)
    ]
    if not usable:
        raise DataNotFoundError(
            f"no stored {symbol} candles of {timeframe} or a smaller timeframe that divides it; "
            f"run `tradeplay data download {symbol}` or `tradeplay quickstart`"
        )
    return min(
        usable,
        key=lambda info: (info.generated, info.key.timeframe != timeframe, -info.rows),
    )


@dataclass(frozen=True, slots=True)
class StoredMarket:
    """What a backtest of one symbol and timeframe runs on, from the store."""

    dataset: DatasetInfo
    candles: Candles
    minutes: Candles | None
    """The 1-minute bars under ``candles`` when the data is 1-minute candles (the exchange
    then follows each bar's exact path)."""
    funding: FundingRates | None
    label: DataLabel


def load_market(
    store: CandleStore,
    symbol: str,
    timeframe: Timeframe,
    start_ms: int | None = None,
    until_ms: int | None = None,
) -> StoredMarket:
    """The best stored data for ``symbol`` at ``timeframe`` from ``start_ms`` to ``until_ms``
    (``None``: all of it); :class:`DataNotFoundError` when no complete bar lies there."""
    symbol = symbol.upper()
    dataset = choose_dataset(store, symbol, timeframe)
    key = dataset.key
    base = key.timeframe
    assert base is not None  # choose_dataset picks candle datasets only
    candles = store.load_candles(key, start_ms, until_ms)
    bars = resample(candles, base, timeframe)
    if len(bars) == 0:
        raise DataNotFoundError(f"{key}: no complete {timeframe} bar in the chosen range")
    exact = base == ONE_MINUTE and timeframe != ONE_MINUTE
    funding = (
        store.load_funding(key.exchange, key.symbol, start_ms, until_ms)
        if store.exists(DatasetKey(key.exchange, key.symbol, None))
        else None
    )
    label = DataLabel(f"{key.exchange} {symbol} {base}: {dataset.source}", dataset.generated)
    return StoredMarket(dataset, bars, candles if exact else None, funding, label)
