"""What a pair's worker answers when asked for a flatten or whether it is flat: a failure is
the asker's to read, never the end of the pair's thread, and a wait has an end."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from tradeplay.runtime.worker import Flatten, _Request, flatten_outcome


def test_a_request_that_raises_is_answered_with_its_error() -> None:
    done: Future[object] = Future()
    _Request(lambda: 1 / 0, done, stopped=None).answer()  # returns: the thread goes on
    with pytest.raises(ZeroDivisionError):
        done.result(timeout=0)


def test_a_flatten_is_read_as_flat_only_when_it_said_so() -> None:
    answered: Future[Flatten] = Future()
    answered.set_result(Flatten("1 orders cancelled, closing 0.1 BTCUSDT", flat=True))
    assert flatten_outcome(answered, 1.0).flat

    silent: Future[Flatten] = Future()
    assert flatten_outcome(silent, 0.01) == Flatten("did not answer within 0.01 s", flat=False)

    failed: Future[Flatten] = Future()
    failed.set_exception(ConnectionError("venue gone"))
    assert flatten_outcome(failed, 1.0) == Flatten(
        "flatten failed: ConnectionError: venue gone", flat=False
    )
    assert str(flatten_outcome(failed, 1.0)) == "flatten failed: ConnectionError: venue gone"
