"""Venue adapters: the only package that talks to an exchange, and the only one importing ccxt.

Everything outside ``venues`` sees a venue through tradeplay's own ports and values (candles,
funding rates, orders) and through tradeplay's exception tree; ccxt's types and errors stop here.
"""
