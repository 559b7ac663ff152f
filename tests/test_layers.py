"""The library is layered in one direction: no module of mobilenet_core imports, directly or through
others, a module that imports it back, counting the imports inside functions too (a lazy import
hides a cycle from Python, not from a reader). And no module imports another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mobilenet_core"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(name: str, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(module, imported name) pairs of one import statement, resolved to our module names."""
    if isinstance(node, ast.Import):
        return [(a.name, "") for a in node.names]
    package = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    pairs = []
    for a in node.names:
        child = f"{target}.{a.name}"  # `from . import conv` names a module
        pairs.append((child if child in MODULES else target, a.name))
    return pairs


def owner(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    private = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target, what in imported(name, node):
                    module = owner(target)
                    if module is None or module == name:
                        continue
                    edges[name].add(module)
                    if what.startswith("_") and module == target and not what.startswith("__"):
                        private.append(f"{name} imports {module}.{what}")
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for v in MODULES:
        if v not in index:
            visit(v)
    return found


def test_the_library_has_no_import_cycle_and_imports_no_private_names():
    edges, private = import_graph()
    assert len(MODULES) > 30 and edges["mobilenet_core.api"]  # the walk sees the package
    assert cycles(edges) == []
    assert private == []


def test_the_check_finds_a_cycle_and_a_private_import():
    """The guard itself: a made-up graph with a cycle through a lazy import is reported."""
    edges = {m: set() for m in MODULES}
    edges["mobilenet_core.latency"].add("mobilenet_core.measure")
    edges["mobilenet_core.measure"].add("mobilenet_core.latency")
    assert cycles(edges) == [["mobilenet_core.latency", "mobilenet_core.measure"]]
    node = ast.parse("from .count import _walk").body[0]
    assert imported("mobilenet_core.sweep", node) == [("mobilenet_core.count", "_walk")]


def test_specs_are_pure_data():
    """specs/ holds the block tables and their types: it imports nothing of the library above it."""
    edges, _ = import_graph()
    for name in MODULES:
        if name.startswith("mobilenet_core.specs"):
            above = {m for m in edges[name] if not m.startswith("mobilenet_core.specs")}
            assert above <= {"mobilenet_core.errors"}, (name, above)


LONGEST = 80  # lines: a page function reads as a list of UI calls; anything longer has parts to name


def long_functions(paths, root: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_in_the_app_or_the_library_is_over_80_lines():
    paths = sorted((ROOT / "app").rglob("*.py")) + sorted(PACKAGE.rglob("*.py"))
    assert long_functions(paths) == []


def test_the_length_check_sees_a_long_function(tmp_path):
    source = tmp_path / "page.py"
    source.write_text("def short():\n    pass\n\n\ndef page():\n" + "    x = 1\n" * LONGEST)
    assert long_functions([source], tmp_path) == [f"page.py:5 page ({LONGEST + 1} lines)"]
