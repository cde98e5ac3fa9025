"""Bybit (V5 API, USDT linear perpetuals) through ccxt.

Kept free of imports so that loading one submodule (say, the error translation) does not load
ccxt's whole Bybit client; import what you need from the submodules.
"""
