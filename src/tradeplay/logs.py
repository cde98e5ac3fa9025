"""Logging setup: key-value events through structlog, JSON when not on a terminal.

This is tradeplay's one global, as in structlog itself: configure once at start-up (the CLI does),
then every module takes ``structlog.get_logger(__name__)`` and logs events such as
``log.info("dataset_written", key=..., rows=...)``. Logs go to stderr so that command output on
stdout stays clean for pipes.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from tradeplay.settings import LogFormat

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure_logging(level: str, fmt: LogFormat, stream: TextIO | None = None) -> None:
    """Route structlog to ``stream`` (stderr by default) at ``level`` in the chosen format."""
    out = stream if stream is not None else sys.stderr
    use_json = fmt is LogFormat.json or (fmt is LogFormat.auto and not out.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.ERROR)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
