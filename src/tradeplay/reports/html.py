"""One self-contained HTML file per run: charts, metrics and configuration, readable offline.

plotly.js is embedded inline once (``include_plotlyjs=True`` on the first chart, about 5 MB);
nothing is fetched from the network, so the file opens on a machine without internet and
still opens in ten years. Charts carry fixed ids, so the same run gives the same bytes.
Long runs are downsampled for display (see :mod:`tradeplay.reports.charts`); a million 1-minute
bars make a file of well under 15 MB.

When the data is generated, a banner at the top of the page and a watermark on every chart say
so: synthetic prices must never be mistaken for evidence about a real market.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Final

from tradeplay.reports import _format as fmt
from tradeplay.reports import charts
from tradeplay.reports._atomic import atomic_text
from tradeplay.reports.metrics import Metrics
from tradeplay.reports.model import RunResult
from tradeplay.reports.summary import summary_rows
from tradeplay.reports.tables import jsonable

__all__ = ["GENERATED_BANNER", "SECTION_TITLES", "render_html", "write_html"]

GENERATED_BANNER: Final = (
    "GENERATED DATA — these prices are synthetic, not a real market. "
    "Nothing in this report is evidence about real trading."
)

SECTION_TITLES: Final = (
    "Price and trades",
    "Equity and drawdown",
    "Monthly returns",
    "Trade PnL distribution",
    "MAE / MFE",
    "Metrics",
    "Configuration",
)

_STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 24px 48px; color: #212121; }
h1 { font-size: 1.5em; margin: 24px 0 4px; }
h2 { font-size: 1.15em; margin: 32px 0 8px; border-bottom: 1px solid #e0e0e0; }
.facts { color: #555; margin: 2px 0; }
.banner { background: #b71c1c; color: #fff; font-weight: 700; font-size: 1.2em;
          padding: 16px 24px; margin: 0 -24px; text-align: center; letter-spacing: 0.02em; }
.empty { color: #777; font-style: italic; }
table { border-collapse: collapse; }
td { padding: 3px 16px 3px 0; border-bottom: 1px solid #f0f0f0; }
td.value { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 12px; overflow-x: auto; }
code { font-size: 0.9em; }
"""


class _ChartWriter:
    """Turns figures into ``<div>`` snippets; the first one carries plotly.js itself."""

    def __init__(self) -> None:
        self._first = True

    def __call__(self, figure: Any, div_id: str) -> str:
        include = self._first
        self._first = False
        snippet = figure.to_html(
            full_html=False,
            include_plotlyjs=include,  # True once: the library inline, never a CDN link
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
        return str(snippet)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{html.escape(title)}</h2>\n{body}\n</section>'


def _no_trades() -> str:
    return '<p class="empty">No trades in this run: nothing to show here.</p>'


def _header(result: RunResult, fingerprint: str) -> str:
    period = f"{fmt.moment(result.start)} → {fmt.moment(result.end)}"
    facts = [
        f"Data: {result.data.text}",
        f"Period: {period} · {len(result.bars):,} bars of {result.timeframe}",
        f"Starting capital: {fmt.money(result.starting_capital, result.currency)}",
        f"Run fingerprint (SHA-256 of the fills): {fingerprint}",
    ]
    banner = (
        f'<div class="banner" id="generated-banner">{html.escape(GENERATED_BANNER)}</div>\n'
        if result.data.generated
        else ""
    )
    title = f"{result.play} — {result.symbol} {result.timeframe}"
    lines = "\n".join(f'<p class="facts">{html.escape(fact)}</p>' for fact in facts)
    return f"{banner}<h1>{html.escape(title)}</h1>\n{lines}"


def _metrics_table(result: RunResult, metrics: Metrics) -> str:
    rows = "\n".join(
        f'<tr><td>{html.escape(label)}</td><td class="value">{html.escape(value)}</td></tr>'
        for label, value in summary_rows(metrics, result.data)
    )
    return f"<table>\n{rows}\n</table>"


def _configuration(result: RunResult) -> str:
    text = json.dumps(jsonable(result.config), indent=2, ensure_ascii=False, allow_nan=False)
    return f"<pre><code>{html.escape(text)}</code></pre>"


def _chart_sections(result: RunResult) -> list[str]:
    chart = _ChartWriter()  # called in page order: the first chart embeds plotly.js
    buckets = charts.buckets_for(result.bars.ts, result.timeframe)
    sections = [
        _section(
            "price", "Price and trades", chart(charts.price_figure(result, buckets), "chart-price")
        ),
        _section(
            "equity",
            "Equity and drawdown",
            chart(charts.equity_figure(result, buckets), "chart-equity"),
        ),
        _section(
            "monthly", "Monthly returns", chart(charts.monthly_figure(result), "chart-monthly")
        ),
    ]
    if not result.trades:
        return [
            *sections,
            _section("pnl", "Trade PnL distribution", _no_trades()),
            _section("excursions", "MAE / MFE", _no_trades()),
        ]
    return [
        *sections,
        _section("pnl", "Trade PnL distribution", chart(charts.pnl_figure(result), "chart-pnl")),
        _section(
            "excursions", "MAE / MFE", chart(charts.excursion_figure(result), "chart-excursions")
        ),
    ]


def render_html(result: RunResult, metrics: Metrics, fingerprint: str) -> str:
    """The whole report page as text."""
    sections = [
        *_chart_sections(result),
        _section("metrics", "Metrics", _metrics_table(result, metrics)),
        _section("configuration", "Configuration", _configuration(result)),
    ]
    title = f"{result.play} {result.symbol} {result.timeframe} — tradeplay report"
    if result.data.generated:
        title = f"[GENERATED DATA] {title}"
    body = "\n".join([_header(result, fingerprint), *sections])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_html(result: RunResult, metrics: Metrics, fingerprint: str, path: Path) -> Path:
    """Write the report page to ``path`` atomically."""
    text = render_html(result, metrics, fingerprint)
    with atomic_text(path) as handle:
        handle.write(text)
    return path
