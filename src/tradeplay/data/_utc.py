"""UTC millisecond timestamps as text for messages a trader reads (``2024-01-01T00:00:00Z``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_utc(ms: int) -> str:
    """ISO-8601 in UTC with a ``Z``; milliseconds only when they are not zero.

    Never raises: a timestamp outside the calendar (garbage in a file being reported) is shown
    as the raw number, because the message about it must still be written.
    """
    try:
        moment = _EPOCH + timedelta(milliseconds=int(ms))
    except OverflowError:
        return f"{int(ms)} ms since the epoch"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = int(ms) % 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"
