"""Where numba keeps compiled kernels: a folder keyed by the source of the whole package.

numba's own cache check looks only at the file of the decorated function, so a change to an
inlined helper in ``_math.py`` would leave every kernel that inlines it stale, silently. Keying
the cache folder by a digest of every source file in :mod:`tradeplay.features` makes any change
compile afresh, and a second run of the same code load its kernels from disk instead of compiling.
An explicit ``NUMBA_CACHE_DIR`` from the user wins.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import platformdirs

_PACKAGE = Path(__file__).resolve().parent


def source_digest(package: Path = _PACKAGE) -> str:
    """A short digest of every ``.py`` file of the features package, path and content."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def configure_kernel_cache() -> Path:
    """Point numba's cache at the folder for this source; must run before kernels are defined."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    folder = platformdirs.user_cache_path("tradeplay") / "numba" / source_digest()
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]  # set from env at import
    return folder
