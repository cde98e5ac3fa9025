"""Driving a stepped emulator in lock step with a runner."""

from __future__ import annotations

import time

from tradeplay.emulator import EmulatorThread


def wait_for_topics(handle: EmulatorThread, topics: set[str], timeout_s: float = 60) -> None:
    """Until the runner listens to every topic: a bar stepped earlier would reach it only by
    the REST gap fill on the next bar, which a lock-step replay never sends."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if topics <= listening(handle):
            return
        time.sleep(0.05)
    raise AssertionError(f"the runner never subscribed to {sorted(topics)}")


def listening(handle: EmulatorThread) -> set[str]:
    connections = handle.emulator.streams.connections
    return handle.call(lambda: {topic for c in connections for topic in c.topics})
