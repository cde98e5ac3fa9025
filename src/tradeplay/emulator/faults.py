"""Faults a real exchange throws, switched on per test (Python) or from the command line.

================  ===========================================================================
kind              what a client sees
================  ===========================================================================
``rate-limit``    retCode 10006 "Too many visits!" (HTTP 200) with ``X-Bapi-Limit-Status: 0``
                  and ``X-Bapi-Limit-Reset-Timestamp`` one second ahead; nothing is done
``server-error``  an HTTP 5xx (default 503) with a plain-text body, as from Bybit's gateway;
                  nothing is done
``timeout``       the request **is carried out** (an order is placed), then the answer is
                  held for ``ms`` (default 30 000, longer than the clients' 10 s timeouts)
                  and the connection closed without one: the order exists, the client timed
                  out — the case idempotent ``orderLinkId`` retries exist for
``latency``       every matching request waits ``ms`` before it is handled
``drop``          every WebSocket is closed by the server (code 1000, as Bybit does), at once
                  (:meth:`~tradeplay.emulator.server.Emulator.drop_connections`) or every
                  ``period`` seconds from the command line
``stale``         every WebSocket stays open but receives nothing: no data, no acks, no pong
                  (also no pong frame), for ``duration`` seconds every ``period`` seconds, or
                  until switched off (:meth:`Faults.set_stale`)
================  ===========================================================================

A REST rule applies to requests whose path starts with ``path`` (all by default), to every
``every``-th of them, at most ``count`` times (unlimited by default). Rules are evaluated on the
emulator's event loop only, so no locking is needed; the Python API may be called from the
test's thread because every change is a single attribute assignment or list append.

Command-line form: ``KIND[,key=value…]``, e.g. ``rate-limit,every=10,path=/v5/order/create``,
``latency,ms=250``, ``timeout,count=1``, ``drop,period=60``, ``stale,period=120,duration=30``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from tradeplay.domain.errors import ConfigError

__all__ = ["FaultKind", "FaultRule", "Faults", "parse_fault"]

_DEFAULT_HOLD_MS: Final = 30_000


class FaultKind(StrEnum):
    RATE_LIMIT = "rate-limit"
    SERVER_ERROR = "server-error"
    TIMEOUT = "timeout"
    LATENCY = "latency"
    DROP = "drop"
    STALE = "stale"


_REST_KINDS: Final = frozenset(
    {FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.LATENCY}
)


@dataclass(slots=True, kw_only=True)
class FaultRule:
    """One fault and when it fires (see the module docstring)."""

    kind: FaultKind
    path: str = ""
    every: int = 1
    count: int | None = None
    ms: int = 0
    status: int = 503
    period_s: float = 0.0
    duration_s: float = 0.0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ConfigError(f"fault {self.kind}: every={self.every} must be at least 1")
        if self.count is not None and self.count < 1:
            raise ConfigError(f"fault {self.kind}: count={self.count} must be at least 1")
        if self.ms < 0 or self.period_s < 0 or self.duration_s < 0:
            raise ConfigError(f"fault {self.kind}: ms, period and duration cannot be negative")
        if not 500 <= self.status <= 599:
            raise ConfigError(f"fault {self.kind}: status={self.status} is not a 5xx status")
        if self.kind is FaultKind.TIMEOUT and self.ms == 0:
            self.ms = _DEFAULT_HOLD_MS

    def matches(self, path: str) -> bool:
        """Count a request on ``path`` and say whether this rule fires for it."""
        if self.kind not in _REST_KINDS or not path.startswith(self.path):
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        self.seen += 1
        if self.seen % self.every:
            return False
        self.fired += 1
        return True


class Faults:
    """The switchable faults of one emulator."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        self.rules: list[FaultRule] = list(rules or [])
        self.stale = False
        """While true, WebSockets receive nothing (set by :meth:`set_stale` or a ``stale``
        rule's schedule)."""

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Switch every fault off."""
        self.rules = []
        self.stale = False

    def rate_limit(self, *, path: str = "", every: int = 1, count: int | None = None) -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.RATE_LIMIT, path=path, every=every, count=count))

    def server_error(
        self, *, status: int = 503, path: str = "", every: int = 1, count: int | None = None
    ) -> FaultRule:
        rule = FaultRule(
            kind=FaultKind.SERVER_ERROR, status=status, path=path, every=every, count=count
        )
        return self.add(rule)

    def timeout_after_accept(
        self, *, hold_ms: int = _DEFAULT_HOLD_MS, path: str = "", count: int | None = None
    ) -> FaultRule:
        rule = FaultRule(kind=FaultKind.TIMEOUT, ms=hold_ms, path=path, count=count)
        return self.add(rule)

    def latency(self, ms: int, *, path: str = "") -> FaultRule:
        return self.add(FaultRule(kind=FaultKind.LATENCY, ms=ms, path=path))

    def set_stale(self, stale: bool = True) -> None:
        self.stale = stale

    def for_request(self, path: str) -> list[FaultRule]:
        """The rules that fire for this request, in the order they were added."""
        return [rule for rule in self.rules if rule.matches(path)]

    def scheduled(self) -> list[FaultRule]:
        """Rules that act on a timer (``drop`` / ``stale`` with a period)."""
        return [
            rule
            for rule in self.rules
            if rule.kind in (FaultKind.DROP, FaultKind.STALE) and rule.period_s > 0
        ]


def parse_fault(text: str) -> FaultRule:
    """``KIND[,key=value…]`` from the command line (see the module docstring)."""
    name, *pairs = [part.strip() for part in text.split(",")]
    try:
        kind = FaultKind(name)
    except ValueError:
        known = ", ".join(kind.value for kind in FaultKind)
        raise ConfigError(f"--fault {text!r}: unknown kind {name!r}; known: {known}") from None
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not value:
            raise ConfigError(f"--fault {text!r}: {pair!r} is not key=value")
        options[key] = value
    try:
        rule = FaultRule(
            kind=kind,
            path=options.pop("path", ""),
            every=int(options.pop("every", "1")),
            count=int(options["count"]) if "count" in options else None,
            ms=int(options.pop("ms", "0")),
            status=int(options.pop("status", "503")),
            period_s=float(options.pop("period", "0")),
            duration_s=float(options.pop("duration", "0")),
        )
    except ValueError as exc:
        raise ConfigError(f"--fault {text!r}: {exc}") from None
    options.pop("count", None)
    if options:
        raise ConfigError(
            f"--fault {text!r}: unknown option(s) {', '.join(sorted(options))}; known: path, "
            "every, count, ms, status, period, duration"
        )
    if kind in (FaultKind.DROP, FaultKind.STALE) and rule.period_s <= 0:
        raise ConfigError(f"--fault {text!r}: {kind} needs period=SECONDS on the command line")
    return rule
