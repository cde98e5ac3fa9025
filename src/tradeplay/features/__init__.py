"""Indicators and market structure as step kernels: one definition for backtest and live."""

from tradeplay.features._cache import configure_kernel_cache

configure_kernel_cache()  # before any kernel module is imported: see _cache.py

from tradeplay.features import kernels as _kernels  # noqa: E402, F401  (registers every feature)
from tradeplay.features.compute import Feature, FeatureStream, bar_matrix  # noqa: E402
from tradeplay.features.spec import REGISTRY, FeatureSpec, ParamSpec  # noqa: E402

__all__ = ["REGISTRY", "Feature", "FeatureSpec", "FeatureStream", "ParamSpec", "bar_matrix"]
