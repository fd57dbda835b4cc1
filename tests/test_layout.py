"""The house rules of the code layout (docs/architecture.md): a small top level in
``crawler/``, and no import cycles between modules, counting imports made only for type
checking."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from tests.helpers import REPO

if TYPE_CHECKING:
    from pathlib import Path

PACKAGES = ("crawler", "spiders", "pipelines")
MAX_TOP_LEVEL_MODULES = 12


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def module_level_imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports outside any function or class body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    imported.add(target if target in modules else base)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", ()):
                    visit(handler.body)

    visit(ast.parse(path.read_text("utf-8")).body)
    return {module for module in imported if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: module_level_imports(path, name, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == "open":
                return [*stack[stack.index(following):], following]
            if following not in state and (cycle := walk(following)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_level_import_cycles():
    graph = import_graph()
    assert "crawler.flagging.flagger" in graph["pipelines.flag"]  # the graph sees imports
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_crawler_keeps_a_small_top_level():
    top = sorted(path.name for path in (REPO / "crawler").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert {"settings.py", "config.py", "items.py", "cli.py"} <= set(top)
