"""The layers import downwards only: core below everything, store below services, shells on top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package (a folder, or a single module) -> the first-party packages it must never import
FORBIDDEN = {
    "brandpulse/core": ("brandpulse.services", "brandpulse.cli", "brandpulse.reports", "brandpulse.demo",
                        "brandpulse.scheduler", "store", "collectors", "publishers", "nlp", "dashboard", "api"),
    "store": ("brandpulse.services", "brandpulse.cli", "brandpulse.reports", "brandpulse.scheduler",
              "collectors", "publishers", "dashboard", "api"),
    "collectors": ("brandpulse.services", "brandpulse.cli", "store", "dashboard", "api"),
    "publishers": ("brandpulse.services", "brandpulse.cli", "store", "dashboard", "api"),
    "brandpulse/services": ("brandpulse.cli", "dashboard", "api"),
    "dashboard": ("brandpulse.cli", "api"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    forbidden = FORBIDDEN[package]
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports from a layer above:\n" + "\n".join(wrong)


def test_every_brandpulse_module_lives_in_a_layer():
    loose = sorted(p.name for p in (ROOT / "brandpulse").glob("*.py")
                   if p.name not in {"__init__.py", "scheduler.py", "supervise.py"})
    assert not loose, f"modules outside core/, services/, cli/: {loose}"
