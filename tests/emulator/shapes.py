"""Comparing our answers with recorded Bybit responses by shape: field names and value types.

ccxt's stored responses have every scalar stringified (``"retCode":"0"``, ``"positionIdx":
"0"``), an artefact of ccxt: real Bybit sends numbers for the fields listed in the protocol
reference §2, so for those our value must be a number whatever the fixture says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

NUMERIC: Final = frozenset(
    {
        "retCode",
        "time",
        "positionIdx",
        "triggerDirection",
        "smpGroup",
        "seq",
        "riskId",
        "autoAddMargin",
        "adlRankIndicator",
        "tradeMode",
        "fundingInterval",
        "unifiedMarginStatus",
        "timeWindow",
        "readOnly",
        "type",
        "deadlineDay",
        "unified",
        "uta",
        "userID",
        "inviterID",
        "affiliateID",
        "start",
        "end",
        "timestamp",
        "creationTime",
        "ts",
        "cs",
        "T",
    }
)


def fixture(root: Path, name: str) -> Any:
    """A recorded response (ccxt files wrap it in ``{"response": …}``)."""
    data = json.loads((root / name).read_text())
    return data["response"] if isinstance(data, dict) and "response" in data else data


def assert_same_shape(ours: Any, theirs: Any, where: str = "") -> None:
    """Every field of ``theirs`` is in ``ours`` with the same kind of value (recursively)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
        missing = sorted(set(theirs) - set(ours))
        assert not missing, f"{where}: fields missing: {missing}"
        for key, value in theirs.items():
            _check_value(ours[key], value, f"{where}.{key}", key)
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{where}: expected a list, got {ours!r}"
        if theirs and ours:
            assert_same_shape(ours[0], theirs[0], f"{where}[0]")


def _check_value(ours: Any, theirs: Any, where: str, key: str) -> None:
    if key in NUMERIC:
        assert type(ours) is int, f"{where}: {ours!r} is not an integer"
    elif isinstance(theirs, bool):
        assert isinstance(ours, bool), f"{where}: expected a boolean, got {ours!r}"
    elif isinstance(theirs, str):
        assert isinstance(ours, str), f"{where}: expected a string, got {ours!r}"
    elif isinstance(theirs, dict | list):
        assert_same_shape(ours, theirs, where)
    elif isinstance(theirs, int | float):
        assert type(ours) in (int, float), f"{where}: {ours!r} is not a number"


ENVELOPE: Final = {"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 0}


def assert_envelope(body: Any) -> None:
    assert set(body) == set(ENVELOPE), body
    assert type(body["retCode"]) is int, body
    assert type(body["time"]) is int, body
    assert isinstance(body["retMsg"], str), body
    assert isinstance(body["result"], dict), body
