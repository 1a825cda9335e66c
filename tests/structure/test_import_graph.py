"""The package's modules import each other one way: no cycle, counting every import
statement — at module level, under ``if TYPE_CHECKING:`` and inside functions. Type-only
and deferred imports do not fail at run time, but a cycle among them still means two
modules that each need the other, which is what the layering rules out."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_ecall

PACKAGE = "airflow_provider_ecall"
ROOT = Path(airflow_provider_ecall.__file__).parent


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``module`` names in any import statement."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node, path.name == "__init__.py")
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if child in known else target)
    return {name for name in found if name in known and name != module}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    names = module_names(root)
    return {name: imports_of(name, path, set(names)) for name, path in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, …, a]``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_graph_reader_sees_type_only_and_deferred_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
    )
    (package / "b.py").write_text("def f():\n    from . import a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]


def test_the_package_imports_one_way() -> None:
    graph = import_graph()
    assert len(graph) > 30  # the whole package was read
    assert f"{PACKAGE}.client.messages" in graph[f"{PACKAGE}.client.client"]
    assert find_cycle(graph) is None


def owner_of_private(module: str) -> str | None:
    """The package that owns ``module`` when it is private (a ``_name`` part, not a dunder
    such as ``__main__``), else None: ``a.b._c.d`` -> ``a.b``."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index])
    return None


def private_imports_across_packages(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> private module`` for every import of a private module from outside the
    package that owns it."""
    found = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            owner = owner_of_private(target)
            if owner is not None and not (importer + ".").startswith(owner + "."):
                found.append(f"{importer} -> {target}")
    return found


def test_the_private_import_reader_knows_whose_module_is_private(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "a").mkdir(parents=True)
    (package / "b").mkdir()
    for name in ("__init__.py", "a/__init__.py", "b/__init__.py", "a/__main__.py"):
        (package / name).write_text("")
    (package / "a" / "_inner.py").write_text("")
    (package / "a" / "user.py").write_text("from pkg.a import _inner\n")  # its own package
    (package / "b" / "other.py").write_text("from pkg.a._inner import x\n")  # across
    (package / "b" / "runner.py").write_text("import pkg.a.__main__\n")  # a dunder: public
    assert private_imports_across_packages(import_graph(package)) == ["pkg.b.other -> pkg.a._inner"]


def test_packages_import_each_other_only_through_public_modules() -> None:
    """What another package of ours needs is a public name of a public module (or lives in
    the package that needs it): a module whose name starts with ``_`` is its package's own."""
    assert private_imports_across_packages(import_graph()) == []
