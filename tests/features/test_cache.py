"""Compiled kernels are cached on disk, in a folder keyed by the features' source code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tradeplay.features._cache import source_digest

SCRIPT = """
import numpy as np, numba
from tradeplay.features import Feature
Feature.of("ema", {"period": 5}).batch(np.ones((10, 6)))
print(numba.config.CACHE_DIR)
"""


def test_a_first_run_writes_the_kernel_cache_and_a_second_run_loads_it(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    first = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    folder = Path(first.stdout.strip())
    assert folder == tmp_path / "tradeplay" / "numba" / source_digest()
    index = list(folder.rglob("averages.ema_kernel-*.nbi"))
    assert index, "no cache index written for the EMA kernel"
    stamp = index[0].stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, check=True)
    assert index[0].stat().st_mtime_ns == stamp, "the second run compiled again"


def test_the_digest_changes_when_an_inlined_helper_changes(tmp_path: Path) -> None:
    package = tmp_path / "features"
    shutil.copytree(Path(source_digest.__code__.co_filename).parent, package)
    before = source_digest(package)
    assert before == source_digest()
    helpers = package / "_math.py"
    helpers.write_text(helpers.read_text() + "\n# changed\n")
    assert source_digest(package) != before
