"""The code's shape, where a user would feel it: no import cycle (a cycle breaks
depending on which command runs first), and `--help` never loads a heavy library."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "nasrtc"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path) -> set[str]:
    """nasrtc modules imported when this module is (not those imported inside functions
    or only for type checking)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nasrtc"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nasrtc"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {dep for dep in top_level_imports(path) if dep in modules and dep != name}
            for name, path in modules.items()}


def test_no_import_cycle() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name):], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(edges[name]):
            visit(dep, [*trail, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


def test_the_cycle_check_sees_a_cycle() -> None:
    """The check above is only worth something if it can fail."""
    edges = graph()
    assert "nasrtc.stack" in edges["nasrtc.output.render"]
    assert not any(dep.startswith("nasrtc.output") for dep in edges["nasrtc.stack"])
