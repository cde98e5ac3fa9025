"""Kernel modules; importing this package registers every feature kind in ``REGISTRY``."""

from tradeplay.features.kernels import (
    averages,  # noqa: F401
    momentum,  # noqa: F401
    structure,  # noqa: F401
    structure_blocks,  # noqa: F401
    structure_zones,  # noqa: F401
    trend,  # noqa: F401
    volatility,  # noqa: F401
    volume,  # noqa: F401
)
