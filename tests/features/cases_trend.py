"""TA-Lib agreement cases for ``kernels/trend.py``."""

from __future__ import annotations

from tests.features.oracle import Case

CASES: list[Case] = []
