"""The report's plotly figures: price with trades, equity and drawdown, monthly returns, trades.

Times go to plotly as ISO text without a zone, in UTC (``2024-05-01T13:00:00``): plotly.js
shows date strings as written, whereas it would show epoch milliseconds in the viewer's local
time zone. The axes say "UTC".

Long runs are **downsampled for display only** (metrics and files always use every bar): above
:data:`MAX_CHART_POINTS` bars, bars are grouped into epoch-aligned buckets of a whole number of
bars, and each bucket is drawn as one candle that keeps the extremes — first open, highest high,
lowest low, last close. Indicator overlays and equity take the value at the bucket's last bar,
drawdown the deepest value in the bucket, so the worst drawdown stays visible. Trade markers are
always at their exact times and prices. The chart's title says when this happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray
from plotly.subplots import make_subplots

from tradeplay.data.candles import Candles
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import PositionSide, ms_from_utc
from tradeplay.reports.metrics import drawdown_series, equity_points, monthly_returns
from tradeplay.reports.model import RunResult, TradeRecord

__all__ = [
    "MAX_CHART_POINTS",
    "Buckets",
    "buckets_for",
    "equity_figure",
    "excursion_figure",
    "monthly_figure",
    "pnl_figure",
    "price_figure",
]

MAX_CHART_POINTS: Final = 20_000
"""Most candles (and equity points) a chart draws; above it they are downsampled."""

_GREEN: Final = "#26a69a"
_RED: Final = "#ef5350"
_GREY: Final = "#9e9e9e"
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


@dataclass(frozen=True, slots=True)
class Buckets:
    """Consecutive groups of bars drawn as one point each: ``[starts[i], ends[i])``."""

    starts: NDArray[np.intp]
    ends: NDArray[np.intp]
    timeframe: Timeframe
    """The length of one bucket (a whole number of bars)."""
    factor: int
    """Bars per bucket (1: every bar drawn as it is)."""

    def note(self, source: Timeframe, bars: int) -> str:
        """What the title says about downsampling; empty when nothing was downsampled."""
        if self.factor == 1:
            return ""
        return (
            f"downsampled for display: 1 candle = {self.factor} × {source} = {self.timeframe}, "
            f"OHLC kept (first open, highest high, lowest low, last close); "
            f"{bars:,} bars → {len(self.starts):,} candles"
        )


def buckets_for(
    ts: NDArray[np.int64], timeframe: Timeframe, limit: int = MAX_CHART_POINTS
) -> Buckets:
    """Epoch-aligned buckets of a whole number of bars, at most ``limit`` of them."""
    if len(ts) <= limit:
        every = np.arange(len(ts), dtype=np.intp)
        return Buckets(every, every + 1, timeframe, 1)
    factor = -(-len(ts) // limit)  # ceil
    while True:  # epoch alignment can add a partial bucket at either end: then widen them
        bucket = Timeframe(timeframe.ms * factor)
        label = ts - ts % bucket.ms
        starts = np.flatnonzero(np.concatenate(([True], label[1:] != label[:-1])))
        if len(starts) <= limit:
            ends = np.append(starts[1:], len(ts))
            return Buckets(starts.astype(np.intp), ends.astype(np.intp), bucket, factor)
        factor += 1


def _downsampled(bars: Candles, buckets: Buckets) -> Candles:
    if buckets.factor == 1:
        return bars
    starts = buckets.starts
    return Candles(
        bars.ts[starts],
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[buckets.ends - 1],
        np.add.reduceat(bars.volume, starts),
    )


def _layout(figure: Any, title: str, generated: bool, height: int = 420) -> Any:
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )
    if generated:  # survives a "download as PNG": the picture itself says so
        figure.add_annotation(
            text="GENERATED DATA",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            opacity=0.12,
            font={"size": 48, "color": _RED},
        )
    return figure


def _plot_times(ms: NDArray[np.int64]) -> list[str]:
    """Epoch milliseconds as zone-less UTC text for plotly; whole seconds drop the fraction."""
    unit: Literal["s", "ms"] = "s" if not bool(np.any(ms % 1000)) else "ms"
    texts: list[str] = np.datetime_as_string(ms.astype("datetime64[ms]"), unit=unit).tolist()
    return texts


def _moment_times(moments: Sequence[datetime]) -> list[str]:
    return _plot_times(np.array([ms_from_utc(moment) for moment in moments], dtype=np.int64))


def _entry_trace(trades: Sequence[TradeRecord], side: PositionSide) -> Any:
    group = [t for t in trades if t.side is side]
    long = side is PositionSide.LONG
    return go.Scatter(
        x=_moment_times([t.entry_time for t in group]),
        y=[float(t.entry_price) for t in group],
        mode="markers",
        name=f"{side} entry",
        marker={
            "symbol": "triangle-up" if long else "triangle-down",
            "size": 10,
            "color": _GREEN if long else _RED,
        },
        hovertext=[f"{side} {t.qty} @ {t.entry_price}" for t in group],
        hoverinfo="x+text",
    )


def _exit_trace(trades: Sequence[TradeRecord]) -> Any:
    return go.Scatter(
        x=_moment_times([t.exit_time for t in trades]),
        y=[float(t.exit_price) for t in trades],
        mode="markers",
        name="exit (green: net win)",
        marker={"symbol": "x", "size": 9, "color": [_GREEN if t.is_win else _RED for t in trades]},
        hovertext=[f"exit ({t.exit_reason}) @ {t.exit_price}, net {t.net_pnl}" for t in trades],
        hoverinfo="x+text",
    )


def price_figure(result: RunResult, buckets: Buckets) -> Any:
    """Candles with the indicator overlays and every trade's entry and exit."""
    bars = _downsampled(result.bars, buckets)
    x = _plot_times(bars.ts)
    traces: list[Any] = [
        go.Candlestick(
            x=x, open=bars.open, high=bars.high, low=bars.low, close=bars.close, name="price"
        )
    ]
    last = buckets.ends - 1
    for name, values in result.overlays.items():
        traces.append(go.Scatter(x=x, y=values[last], mode="lines", name=name, line={"width": 1}))
    traces += [
        _entry_trace(result.trades, side) for side in (PositionSide.LONG, PositionSide.SHORT)
    ]
    traces.append(_exit_trace(result.trades))
    note = buckets.note(result.timeframe, len(result.bars))
    title = f"{result.symbol} {result.timeframe}" + (f"<br><sub>{note}</sub>" if note else "")
    figure = _layout(go.Figure(data=traces), title, result.data.generated, height=560)
    figure.update_xaxes(type="date", rangeslider_visible=False, title_text="time (UTC)")
    return figure


def equity_figure(result: RunResult, buckets: Buckets) -> Any:
    """Equity (top) and drawdown below the running peak (bottom), at each bar's close."""
    times, equity = equity_points(
        result.equity, float(result.starting_capital), result.timeframe.ms
    )
    drawdown = drawdown_series(equity)
    x, y, depth = _plot_times(times), equity, drawdown
    if buckets.factor > 1:  # point i + 1 is bar i's close; point 0 (the start) stays
        last = np.concatenate(([0], buckets.ends))
        worst = np.maximum.reduceat(drawdown[1:], buckets.starts)
        x = [x[i] for i in last.tolist()]
        y, depth = equity[last], np.concatenate(([0.0], worst))
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04
    )
    figure.add_trace(
        go.Scatter(x=x, y=y, mode="lines", name=f"equity ({result.currency})"), row=1, col=1
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=-100.0 * depth,
            mode="lines",
            name="drawdown (%)",
            fill="tozeroy",
            line={"color": _RED},
        ),
        row=2,
        col=1,
    )
    note = buckets.note(result.timeframe, len(result.bars))
    detail = (
        note.split(";")[0] + "; drawdown shows the deepest point of each candle" if note else ""
    )
    title = "Equity and drawdown" + (f"<br><sub>{detail}</sub>" if detail else "")
    figure.update_xaxes(type="date")
    figure.update_xaxes(title_text="time (UTC)", row=2, col=1)
    figure.update_yaxes(title_text=result.currency, row=1, col=1)
    figure.update_yaxes(title_text="drawdown %", row=2, col=1)
    return _layout(figure, title, result.data.generated, height=520)


def monthly_figure(result: RunResult) -> Any:
    """Heat map of calendar-month returns (UTC): years down, months across, in %."""
    times, equity = equity_points(
        result.equity, float(result.starting_capital), result.timeframe.ms
    )
    months, returns = monthly_returns(times, equity)
    years = sorted({int(str(month)[:4]) for month in months})
    grid = np.full((len(years), 12), np.nan)
    for month, value in zip(months, returns, strict=True):
        text = str(month)
        grid[years.index(int(text[:4])), int(text[5:7]) - 1] = value * 100.0
    labels = [["" if np.isnan(v) else f"{v:+.1f}%" for v in row] for row in grid]
    heat = go.Heatmap(
        z=grid,
        x=list(_MONTHS),
        y=[str(year) for year in years],
        text=labels,
        texttemplate="%{text}",
        colorscale=[[0.0, _RED], [0.5, "#ffffff"], [1.0, _GREEN]],
        zmid=0.0,
        colorbar={"title": {"text": "%"}},
        hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
    )
    figure = go.Figure(data=[heat])
    figure.update_yaxes(type="category", autorange="reversed")
    return _layout(
        figure,
        "Monthly returns (UTC calendar months)",
        result.data.generated,
        height=160 + 40 * len(years),
    )


def pnl_figure(result: RunResult) -> Any:
    """Histogram of the trades' net PnL."""
    pnl = [float(t.net_pnl) for t in result.trades]
    histogram = go.Histogram(
        x=pnl, nbinsx=min(60, max(10, len(pnl) // 3)), marker={"color": "#5c6bc0"}, name="trades"
    )
    figure = go.Figure(data=[histogram])
    figure.update_xaxes(title_text=f"net PnL per trade ({result.currency})")
    figure.update_yaxes(title_text="trades")
    return _layout(figure, "Trade PnL distribution (after fees and funding)", result.data.generated)


def excursion_figure(result: RunResult) -> Any:
    """MAE against MFE per trade, in % of the entry price; winners green, the rest red."""
    traces = []
    for name, color, chosen in (
        ("winning trades", _GREEN, [t for t in result.trades if t.is_win]),
        ("losing / break-even trades", _RED, [t for t in result.trades if not t.is_win]),
    ):
        traces.append(
            go.Scatter(
                x=[100.0 * t.mae_pct for t in chosen],
                y=[100.0 * t.mfe_pct for t in chosen],
                mode="markers",
                name=name,
                marker={"color": color, "size": 7, "opacity": 0.7},
                hovertext=[f"{t.side}, net {t.net_pnl}, {t.exit_reason}" for t in chosen],
            )
        )
    figure = go.Figure(data=traces)
    figure.update_xaxes(
        title_text="MAE: worst move against the trade (% of entry)", rangemode="tozero"
    )
    figure.update_yaxes(title_text="MFE: best move in favour (% of entry)", rangemode="tozero")
    return _layout(figure, "Maximum adverse vs favourable excursion", result.data.generated)
