"""The real Redis on 127.0.0.1:6379 (``TRADEPLAY_TEST_REDIS_URL`` elsewhere).

Without a reachable server the Redis tests skip saying why, except in CI (``CI=true``), where
they fail: CI must run them.
"""

from __future__ import annotations

import os

import pytest
import redis

REDIS_ENV = "TRADEPLAY_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_ENV}={url}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Redis tests; {reason}")
        pytest.skip(reason)
    finally:
        client.close()
    return url
