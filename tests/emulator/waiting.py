"""Waiting for what a client receives, with a deadline (never a bare sleep)."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from tradeplay.emulator import EmulatorThread


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def subscribed(handle: EmulatorThread, topic: str, count: int = 1, timeout: float = 20.0) -> None:
    """Wait until ``count`` sockets of the emulator are subscribed to ``topic`` (clients
    connect in threads of their own: on a loaded machine that takes a while)."""

    def enough() -> bool:
        connections = handle.call(lambda: list(handle.emulator.streams.connections))
        return sum(topic in c.topics for c in connections) >= count

    wait_until(enough, f"a subscription to {topic}", timeout)


def next_matching(
    inbox: queue.Queue[dict[str, Any]],
    predicate: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The first message in ``inbox`` that satisfies ``predicate`` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            message = inbox.get(timeout=remaining)
        except queue.Empty:
            continue
        if predicate(message):
            return message
