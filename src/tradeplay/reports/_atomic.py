"""Write a file so that a reader sees the old one or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def atomic_text(path: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file that appears at ``path`` (replacing any old one) only once complete.

    The text goes to a temporary file in the same folder, which is then ``os.replace``-d over
    ``path`` (atomic within one file system); on an error the temporary file is removed.
    """
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(0o644)  # mkstemp creates 0600; a report is meant to be opened and shared
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
