"""The direction of imports: the domain is pure, the core never reaches for a shell or a venue."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "tradeplay"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((SRC / "domain").glob("*.py")), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    foreign = {
        name
        for name in _imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("tradeplay.domain")
    }
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_only_the_venues_package_imports_ccxt() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "venues" not in path.parts
        and any(name.split(".")[0] == "ccxt" for name in _imported_modules(path))
    ]
    assert offenders == []
