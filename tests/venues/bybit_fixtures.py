"""Reading the recorded Bybit answers (``../shared/fixtures/bybit``) in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def ccxt_response(root: Path, name: str) -> dict[str, Any]:
    """The Bybit envelope of a ccxt static-response recording (real Bybit, scalars as text)."""
    data: dict[str, Any] = json.loads((root / "ccxt_static_response" / name).read_text())
    return dict(data["response"])


def ccxt_items(root: Path, name: str) -> list[dict[str, Any]]:
    return list(ccxt_response(root, name)["result"]["list"])


def nautilus(root: Path, name: str) -> dict[str, Any]:
    """A nautilus_trader test message (shapes from Bybit's docs, hand-edited)."""
    data: dict[str, Any] = json.loads(
        (root / "nautilus_trader" / "crate_test_data" / name).read_text()
    )
    return data
