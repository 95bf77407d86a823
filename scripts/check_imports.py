"""Fail on an import circle or an upward import inside the ``segment`` package.

The package is built in floors (docs/architecture.md): a module may import from its own wing
and from the floors below it, never from a floor above it nor from another wing of its own
floor. Every import counts, wherever it is written: at the top of a module, inside a function
(a "lazy" import) or under ``if TYPE_CHECKING:``. A wing does not import another wing's private
(underscore) names either.

Usage::

    python scripts/check_imports.py [PACKAGE_DIR]

Prints one line per problem and exits 1 when there is any; prints a one-line summary and exits 0
otherwise.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

#: The floors of the package, from the ground up; each lists its wings (module prefixes).
#: The ground floor is one wing of small shared modules.
FLOORS: list[tuple[str, ...]] = [
    (
        "segment._version",
        "segment._defaults",
        "segment.exceptions",
        "segment._util",
        "segment._files",
        "segment._escape",
        "segment.resources",
        "segment.disclosure",
    ),
    ("segment.survey",),
    ("segment.weights",),
    ("segment.models",),
    ("segment.listexp",),
    ("segment.cards",),
    ("segment.segments",),
    ("segment.synth",),
    ("segment.report", "segment.quiz"),
    ("segment.pipeline",),
    ("segment.cli",),
    ("segment",),  # segment/__init__.py alone: the names a user imports
]
#: The package itself: its wing is its ``__init__`` only, not every module below it.
PACKAGE = "segment"
GROUND = 0


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(path: Path, root: Path, modules: set[str]) -> list[Import]:
    """Every ``import`` and ``from ... import`` of a file, resolved to modules of the package."""
    importer = module_name(path, root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.append(Import(importer, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target not in modules:
                continue
            names = tuple(alias.name for alias in node.names)
            submodules = [n for n in names if f"{target}.{n}" in modules]
            for name in submodules:
                found.append(Import(importer, f"{target}.{name}", (), node.lineno))
            others = tuple(n for n in names if n not in submodules)
            if others or not submodules:
                found.append(Import(importer, target, others, node.lineno))
    return found


def wing_of(module: str) -> tuple[int, str]:
    """(floor, wing) of a module: the longest wing prefix that contains it."""
    best = None
    for floor, wings in enumerate(FLOORS):
        for wing in wings:
            inside = module == wing or (wing != PACKAGE and module.startswith(wing + "."))
            if inside and (best is None or len(wing) > len(best[1])):
                best = (floor, wing)
    if best is None:
        raise KeyError(module)
    return best


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself
    (Tarjan 1972), each listed from its first module in alphabetical order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def shortest_cycle(start: str, component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """The shortest chain of imports from ``start`` back to itself inside its circle."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    return [start, start]


def check(root: Path) -> tuple[list[str], int, int]:
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    modules = {module_name(p, root) for p in files}
    problems = []
    imports = []
    for path in files:
        imports += read_imports(path, root, modules)
        try:
            wing_of(module_name(path, root))
        except KeyError:
            problems.append(
                f"{path}: module {module_name(path, root)} is on no floor; "
                "add its wing to FLOORS in scripts/check_imports.py and docs/architecture.md"
            )
    if problems:
        return problems, len(modules), len(imports)
    edges: dict[str, set[str]] = {}
    for imp in imports:
        edges.setdefault(imp.importer, set()).add(imp.target)
        floor, wing = wing_of(imp.importer)
        t_floor, t_wing = wing_of(imp.target)
        where = f"{imp.importer} (line {imp.line}) imports {imp.target}"
        if t_floor > floor:
            problems.append(f"upward import: {where}, floor {t_floor} above floor {floor}")
        elif t_floor == floor and t_wing != wing and floor != GROUND:
            problems.append(f"sideways import: {where}, another wing of floor {floor}")
        if t_wing != wing:
            private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
            if private:
                problems.append(f"private import: {where}: {', '.join(private)} of wing {t_wing}")
    for component in circles(edges):
        cycle = shortest_cycle(component[0], set(component), edges)
        more = (
            f" ({len(component)} modules import each other in all)"
            if len(component) > len(cycle) - 1
            else ""
        )
        problems.append("import circle: " + " -> ".join(cycle) + more)
    return problems, len(modules), len(imports)


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "segment"
    problems, n_modules, n_imports = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} import problem(s) in {root}")
        return 1
    print(
        f"{root.name}: {n_modules} modules, {n_imports} imports on {len(FLOORS)} floors; "
        "no circles, no upward, sideways or private imports"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
