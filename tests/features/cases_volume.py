"""TA-Lib agreement cases for ``kernels/volume.py``."""

from __future__ import annotations

from tests.features.oracle import Case

CASES: list[Case] = []
