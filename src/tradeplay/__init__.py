"""tradeplay: systematic trading of crypto perpetual futures."""

__version__ = "0.1.0"
