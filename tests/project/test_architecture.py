"""The rules that keep the house (issue 16): no import cycle among the hand-written modules, no
hand-written module over the size limit. The layer contracts are import-linter's (`.importlinter`,
run by `make lint`); docs/architecture.md explains them."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400  #: lines of a hand-written module


def _hand_written() -> list[Path]:
    files = [*ROOT.joinpath("calcom_async").rglob("*.py"), *ROOT.joinpath("codegen").rglob("*.py")]
    return sorted(p for p in files if "_generated" not in p.parts)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_hand_written_module_is_over_the_size_limit() -> None:
    over = {str(p.relative_to(ROOT)): n for p in _hand_written() if (n := _lines(p)) > LIMIT}
    assert not over, f"over {LIMIT} lines (split them): {over}"


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected components (Tarjan) of more than one module."""
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
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
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycle_among_the_hand_written_modules() -> None:
    """Every import that runs counts, a function's lazy import too; the annotations under
    ``if TYPE_CHECKING:`` do not (they never run)."""
    graph = grimp.build_graph("calcom_async", exclude_type_checking_imports=True, cache_dir=None)
    modules = {m for m in graph.modules if "._generated" not in m}
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph, {"pkg.a", "pkg.b", "pkg.c"}) == [["pkg.a", "pkg.b"]]
