"""Shared test fixtures: where the third-party real data lives, and a throwaway data home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

_REPO = Path(__file__).resolve().parent.parent


def _shared_dir(env: str, default: Path) -> Path:
    return Path(os.environ.get(env, str(default))).expanduser().resolve()


def _require(path: Path, what: str, env: str) -> Path:
    if path.is_dir():
        return path
    reason = f"{what} not found at {path} (set {env} to its folder)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run with {what}: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real candle / funding / trade files (``../shared/data`` by default)."""
    env = "TRADEPLAY_SHARED_DATA"
    return _require(_shared_dir(env, _REPO.parent / "shared" / "data"), "shared market data", env)


@pytest.fixture(scope="session")
def bybit_fixtures() -> Path:
    """Folder of recorded Bybit responses (``../shared/fixtures/bybit`` by default)."""
    env = "TRADEPLAY_BYBIT_FIXTURES"
    default = _REPO.parent / "shared" / "fixtures" / "bybit"
    return _require(_shared_dir(env, default), "recorded Bybit fixtures", env)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults: a CLI test configures logging to a
    stream the test runner closes afterwards, which must not leak into the next test."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
