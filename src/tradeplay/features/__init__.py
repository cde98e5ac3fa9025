"""Indicators and market structure as step kernels: one definition for backtest and live."""

from tradeplay.features import kernels as _kernels  # noqa: F401  (registers every feature)
from tradeplay.features.compute import Feature, FeatureStream, bar_matrix
from tradeplay.features.spec import REGISTRY, FeatureSpec, ParamSpec

__all__ = ["REGISTRY", "Feature", "FeatureSpec", "FeatureStream", "ParamSpec", "bar_matrix"]
