"""JSON text for the columns that hold documents (engine states, graduation metrics).

Stored as text rather than a JSON column type so both databases hold the same bytes, and so a
value that is not JSON fails here with a message instead of deep inside a driver.
"""

from __future__ import annotations

import json
from typing import Any

from tradeplay.domain.errors import InputError, StateCorruptionError


def dump(document: Any, what: str) -> str:
    """Canonical JSON (sorted keys, no NaN); :class:`InputError` naming ``what`` otherwise."""
    try:
        return json.dumps(document, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{what} must hold only JSON values (text, numbers, true/false, null, lists, "
            f"objects; money as text): {exc}"
        ) from None


def load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateCorruptionError(f"{what} is not valid JSON: {exc}") from None
