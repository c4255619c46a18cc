"""The package has no import cycles, and the command line's everyday path no heavy imports.

The rule checked: the graph of assesskit-internal imports — every ``import`` / ``from …
import`` statement anywhere in a module (module level, module-level ``if``/``try``/``with``
blocks, class bodies, and inside functions too), except those under ``if TYPE_CHECKING:``
(which never run) — has no cycle. A name imported from a package that is one of its
submodules (``from . import diagnostics``) points at the submodule; any other name points at
the module it is taken from (a package's ``__init__``). Imports inside functions count: a
lazy import that closes a cycle still makes the modules depend on each other (the package's
old cycle, composite → stats.diagnostics → scoring → composite, was such a one). The only
import the checker cannot see is ``importlib.import_module`` in the deprecated aliases of
:mod:`assesskit.composite`, which point at the modules the names moved to.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "assesskit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, *, lazy: bool) -> list[tuple[ast.stmt, bool]]:
    """(import statement, inside a function) pairs; TYPE_CHECKING blocks skipped."""
    out: list[tuple[ast.stmt, bool]] = []

    def visit(node: ast.AST, in_fn: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    visit_one(sub, in_fn)
                continue
            visit_one(child, in_fn)

    def visit_one(child: ast.AST, in_fn: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            out.append((child, in_fn))
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if lazy:
                visit(child, True)
        else:
            visit(child, in_fn)

    visit(tree, False)
    return out


def _targets(module: str, node: ast.stmt) -> set[str]:
    """The assesskit modules an import statement in ``module`` loads."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    is_pkg = MODULES[module].name == "__init__.py"
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_pkg else 0)]
        src = ".".join(base + ([node.module] if node.module else []))
    else:
        src = node.module or ""
    if src not in MODULES:
        return set()
    out = set()
    for a in node.names:
        sub = f"{src}.{a.name}"
        out.add(sub if sub in MODULES else src)
    return out


def import_graph(*, lazy: bool = False) -> dict[str, dict[str, int]]:
    """module → {imported module: line}; with ``lazy`` the imports inside functions too."""
    graph: dict[str, dict[str, int]] = {}
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges: dict[str, int] = {}
        for node, _in_fn in _imports(tree, lazy=lazy):
            for t in _targets(mod, node):
                if t != mod:
                    edges.setdefault(t, node.lineno)
        graph[mod] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle as a list of modules (first = last), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, {})):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state and (c := dfs(v)):
                return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state and (c := dfs(u)):
            return c
    return None


def _show(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return "\n".join(f"  {a} (line {graph[a][b]}) → {b}" for a, b in zip(cycle, cycle[1:]))


def test_the_checker_finds_a_cycle_and_reads_relative_imports():
    g = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert find_cycle(g) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None
    tree = ast.parse("from .kernel import rules\nfrom ..scheme import SEP\nfrom . import x_unknown\n")
    stmts = [n for n, _ in _imports(tree, lazy=False)]
    assert _targets("assesskit.analyses.composite", stmts[1]) == {"assesskit.scheme"}
    assert _targets("assesskit.scheme", stmts[0]) == {"assesskit.kernel.rules"}
    assert _targets("assesskit.kernel.rules", stmts[2]) == {"assesskit.kernel"}
    lazy = ast.parse("if TYPE_CHECKING:\n    import assesskit.cli\ndef f():\n    import assesskit.cli\n")
    assert _imports(lazy, lazy=False) == []
    assert len(_imports(lazy, lazy=True)) == 1


@pytest.mark.parametrize("lazy", [False, True], ids=["module-level", "with-function-level"])
def test_no_import_cycles(lazy):
    graph = import_graph(lazy=lazy)
    assert len(graph) > 30 and "assesskit.exceptions" in graph["assesskit.scheme"]
    cycle = find_cycle(graph)
    if cycle:
        pytest.fail("import cycle:\n" + _show(graph, cycle))


def test_the_kernel_imports_nothing_above_it():
    graph = import_graph(lazy=True)
    for mod in ("assesskit.kernel.rules", "assesskit.kernel.aggregate"):
        above = {
            t for t in graph[mod] if not t.startswith("assesskit.kernel") and t != "assesskit.exceptions"
        }
        assert not above, f"{mod} imports {sorted(above)}"


# the scientific and notebook stack, which the command line's everyday path must not load
# (tests/test_startup.py checks the same at run time)
HEAVY = {"scipy", "matplotlib", "statsmodels", "SALib", "nbconvert", "papermill", "nbclient", "dask"}
HEAVY |= {"distributed", "ipywidgets"}
EVERYDAY = ("assesskit.cli", "assesskit.pipeline", "assesskit.loading", "assesskit.writers")


def module_level_closure(roots) -> set[str]:
    """The assesskit modules that importing ``roots`` loads (module-level imports only)."""
    graph = import_graph(lazy=False)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph[m])
    return seen


def external_imports(module: str) -> dict[str, int]:
    """Top-level third-party package → line, for the module-level imports of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: dict[str, int] = {}
    for node, _ in _imports(tree, lazy=False):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            names = [node.module] if node.module and not node.level else []
        for n in names:
            out.setdefault(n.split(".")[0], node.lineno)
    return out


def test_the_everyday_path_imports_no_heavy_library_at_module_level():
    closure = module_level_closure(EVERYDAY)
    assert {"assesskit.scheme", "assesskit.scoring", "assesskit.kernel.rules"} <= closure
    found = [
        f"{MODULES[m].relative_to(ROOT.parent)}:{line} imports {pkg}"
        for m in sorted(closure)
        for pkg, line in external_imports(m).items()
        if pkg in HEAVY
    ]
    assert not found, "move these imports into the functions that use them:\n" + "\n".join(found)


def test_the_heavy_import_check_sees_a_stats_module():
    """Not blind: the statistics modules do import scipy at module level, and are reached."""
    closure = module_level_closure(["assesskit.stats.funnel"])
    assert any("scipy" in external_imports(m) for m in closure)
