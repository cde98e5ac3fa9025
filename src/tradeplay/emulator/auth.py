"""Bybit's request authentication, checked against the raw bytes the client sent.

REST (reference §3): ``X-BAPI-SIGN`` = HMAC-SHA256-hex(secret, timestamp + apiKey + recvWindow +
payload), where the payload is the query string exactly as received (GET) or the body exactly as
received (POST). Nothing is re-serialised: ccxt sends its query unsorted and a compact body,
pybit a sorted query and a body with spaces, and both verify because the bytes are used as they
came. The hex is compared case-insensitively (Bybit's clients send lower case).

Checks, in order: the key (10003), the timestamp window (10002), the signature (10004). Bybit's
own order between the last two is not documented; a stale request is reported as stale even
when its signature is also wrong, which is the more useful answer.

Timestamp rule (§3.3): ``server_time - recv_window <= timestamp < server_time + 1000``. A
missing ``X-BAPI-RECV-WINDOW`` means 5000 (Bybit's documented default; both clients always send
the header, what Bybit signs without it is [U], so the string is then built without it).

Time: the wall clock (injected), not the replayed market time: clients sign with their own
clocks, so the rule must compare against real time even when the market is years in the past.

WebSocket (§4.2): ``{"op":"auth","args":[key, expires, signature]}`` with signature =
HMAC-SHA256-hex(secret, "GET/realtime" + str(expires)); ``expires`` may be a number (pybit) or
a string (ccxt) and must lie in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from tradeplay.emulator.config import AccountSpec
from tradeplay.emulator.errors import BybitError, Code

__all__ = ["DEFAULT_RECV_WINDOW_MS", "sign", "verify_request", "verify_ws_auth"]

DEFAULT_RECV_WINDOW_MS: Final = 5000
# Bybit accepts timestamps up to 1 s ahead of its clock (§3.3).
_FUTURE_TOLERANCE_MS: Final = 1000


def sign(secret: str, message: bytes) -> str:
    """Bybit's HMAC: SHA-256 keyed by the API secret, lower-case hex."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_request(
    headers: Mapping[str, str],
    payload: bytes,
    accounts: Mapping[str, AccountSpec],
    now_ms: int,
) -> AccountSpec:
    """The account a signed REST request belongs to; raises :class:`BybitError` if refused."""
    key = headers.get("X-BAPI-API-KEY", "")
    account = accounts.get(key)
    if account is None:
        raise BybitError(Code.INVALID_KEY, "API key is invalid.")
    stamp = headers.get("X-BAPI-TIMESTAMP", "")
    window_text = headers.get("X-BAPI-RECV-WINDOW")
    window = _window(window_text)
    if not stamp.isdigit() or not now_ms - window <= int(stamp) < now_ms + _FUTURE_TOLERANCE_MS:
        raise BybitError(
            Code.TIMESTAMP,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{stamp}],server_timestamp[{now_ms}],recv_window[{window}]",
        )
    origin = (stamp + key + (window_text or "")).encode() + payload
    expected = sign(account.secret, origin)
    given = headers.get("X-BAPI-SIGN", "").lower()
    if not hmac.compare_digest(expected, given):
        shown = origin.decode("utf-8", errors="replace")
        raise BybitError(Code.SIGNATURE, f"error sign! origin_string[{shown}]")
    return account


def _window(text: str | None) -> int:
    if text is None:
        return DEFAULT_RECV_WINDOW_MS
    if not text.isdigit():
        # The window is part of the timestamp rule, so a malformed one fails that rule.
        raise BybitError(
            Code.TIMESTAMP,
            f"invalid request, please check your server timestamp or recv_window param. "
            f"recv_window[{text}]",
        )
    return int(text)


def verify_ws_auth(
    args: object, accounts: Mapping[str, AccountSpec], now_ms: int
) -> AccountSpec | None:
    """The account of a WebSocket ``auth`` op, or ``None`` when Bybit would say "Params Error"."""
    if not isinstance(args, list) or len(args) != 3:
        return None
    key, expires, signature = args
    account = accounts.get(key) if isinstance(key, str) else None
    if account is None or isinstance(expires, bool) or not isinstance(signature, str):
        return None
    text = str(expires)
    if not isinstance(expires, int | str) or not text.isdigit() or int(text) <= now_ms:
        return None
    expected = sign(account.secret, f"GET/realtime{text}".encode())
    return account if hmac.compare_digest(expected, signature.lower()) else None
