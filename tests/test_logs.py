"""Logging: key-value events, JSON when the stream is not a terminal."""

from __future__ import annotations

import io
import json

import structlog

from tradeplay.logs import configure_logging
from tradeplay.settings import LogFormat


def test_events_are_json_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging("info", LogFormat.auto, stream)
    structlog.get_logger("test").info("dataset_written", symbol="BTCUSDT", rows=3)
    record = json.loads(stream.getvalue().strip())
    assert record["event"] == "dataset_written"
    assert record["symbol"] == "BTCUSDT"
    assert record["rows"] == 3
    assert record["level"] == "info"
    assert record["timestamp"].endswith("Z")


def test_events_below_the_level_are_dropped() -> None:
    stream = io.StringIO()
    configure_logging("warning", LogFormat.json, stream)
    structlog.get_logger("test").info("chatty")
    structlog.get_logger("test").warning("important", code=7)
    lines = stream.getvalue().strip().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["important"]


def test_console_format_is_key_value_text() -> None:
    stream = io.StringIO()
    configure_logging("info", LogFormat.console, stream)
    structlog.get_logger("test").info("order_filled", price="100.5")
    assert "order_filled" in stream.getvalue()
    assert "price=100.5" in stream.getvalue()
