"""Market data: the Parquet candle and funding store, validation, gaps, resampling, imports.

Import from the modules (``tradeplay.data.store``, ``tradeplay.data.candles`` ...); this package
re-exports nothing so that importing one light module does not pull in pyarrow.
"""
