"""The one check command, run by developers and by CI: lint, format, types, imports, tests.

Usage: ``python tools/check.py [pytest arguments]``. Every step runs even when an earlier one
failed, so one run shows every problem; the exit code is non-zero when any step failed, and a
test run that collected no test counts as a failure (pytest's exit code 5 must never pass).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTEST_NO_TESTS = 5


def _steps(pytest_args: list[str]) -> list[tuple[str, list[str]]]:
    py = sys.executable
    return [
        ("ruff lint", [py, "-m", "ruff", "check", "src", "tests", "bench", "tools"]),
        ("ruff format", [py, "-m", "ruff", "format", "--check", "src", "tests", "bench", "tools"]),
        ("mypy (strict)", [py, "-m", "mypy"]),
        ("import contracts", [str(BIN / "lint-imports"), "--no-cache"]),
        ("pytest", [py, "-m", "pytest", *pytest_args]),
    ]


def main(argv: list[str]) -> int:
    results: list[tuple[str, int, float]] = []
    for name, command in _steps(argv):
        print(f"\n=== {name}: {' '.join(command)}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command, cwd=ROOT)
        if name == "pytest" and code == PYTEST_NO_TESTS:
            print("ERROR: pytest collected no test; a run without tests is a failure.", flush=True)
        results.append((name, code, time.monotonic() - started))
    print("\n=== summary")
    for name, code, seconds in results:
        print(f"{'ok  ' if code == 0 else 'FAIL'} {name:<18} {seconds:7.1f} s (exit {code})")
    failed = [name for name, code, _ in results if code != 0]
    if failed:
        print(f"check failed: {', '.join(failed)}")
        return 1
    print("check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
