"""The simulated exchange: Bybit-like perpetual futures for backtests and paper trading."""
