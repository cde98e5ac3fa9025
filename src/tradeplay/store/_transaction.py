"""How a repository gets its connection: a fresh transaction per call, or the caller's one."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeAlias

from sqlalchemy import Connection

Begin: TypeAlias = Callable[[], AbstractContextManager[Connection]]
"""Opens (or joins) a transaction; leaving the block commits, an exception rolls back."""
