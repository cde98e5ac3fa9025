"""Kernel modules; importing this package registers every feature kind in ``REGISTRY``."""

from tradeplay.features.kernels import averages  # noqa: F401
