"""What a trader sees after a run: metrics, CSV files, the HTML report.

* :mod:`~tradeplay.reports.model` — :class:`RunResult`, what a run hands over (trades, equity,
  orders, fills, bars, the data label);
* :mod:`~tradeplay.reports.metrics` — :func:`compute_metrics` and the statistics' conventions;
* :mod:`~tradeplay.reports.fingerprint` — one SHA-256 over the fills, to compare runs exactly;
* :mod:`~tradeplay.reports.report` — :func:`write_report`: CSV files, ``metrics.json`` and a
  self-contained ``report.html`` in one folder;
* :mod:`~tradeplay.reports.summary` — :func:`summary_rows` for a terminal table.

Import from the modules; this package re-exports nothing, so that the backtester importing the
model does not pull in plotly.
"""
