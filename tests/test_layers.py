"""The package's structure: no import circle, and each layer imports only
the layers below it (DESIGN §3).  Imports under C{if TYPE_CHECKING:} are
for annotations only and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Each layer (the first name under C{pantasks}) and what it may import.
#: C{pantasks} is the package itself (its version).
BELOW: dict[str, set[str]] = {
    "pantasks": set(),
    "config": {"pantasks"},
    "manual": {"pantasks"},
    "lang": {"pantasks", "manual"},
    "exec": {"pantasks", "config", "manual", "lang"},
    "sched": {"pantasks", "config", "manual", "lang", "exec"},
    "engine": {"pantasks", "config", "manual", "lang", "exec", "sched"},
    "net": {"pantasks", "config", "manual", "lang", "exec", "sched"},
    "web": {"pantasks", "config", "manual", "lang", "exec", "sched", "net"},
    "tap": {"pantasks", "config", "manual", "lang", "exec", "sched", "engine", "net", "web"},
    "cli": {"pantasks", "config", "manual", "lang", "exec", "sched", "engine", "net", "web",
            "tap"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "pantasks").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules C{path} imports at run time (anywhere in it)."""
    out: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if getattr(test, "id", None) == "TYPE_CHECKING" or \
                    getattr(test, "attr", None) == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            out.update(a.name for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level or not node.module:
                return
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in out if name in known}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pantasks"


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_layers_import_only_below() -> None:
    wrong = []
    for module, deps in sorted(graph().items()):
        mine = layer(module)
        assert mine in BELOW, f"{module}: layer {mine} is not in BELOW; add it"
        for dep in sorted(deps):
            theirs = layer(dep)
            if theirs != mine and theirs not in BELOW[mine]:
                wrong.append(f"{module} imports {dep}")
    assert wrong == []


def test_the_checks_can_fail() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert layer("pantasks.lang.interp") == "lang" and layer("pantasks") == "pantasks"
