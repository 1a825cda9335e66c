"""The user docs cannot drift from the code: every Python snippet of README.md and docs/
parses, every provider name it imports exists, every keyword it passes to a provider class
or function is one that class or function takes; every module, name and file the prose
mentions exists. (The snippets hold placeholders — ``DAG(...)``, ``...`` — so they are
checked, not run; the runnable versions are the example DAGs, run by tests/e2e.) The
site's pages include the example DAGs by ``[START name]`` / ``[END name]`` markers, never a
copy: every region a page includes exists once, and every marker is paired and included."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
EXAMPLES = sorted((ROOT / "example_dags").glob("*.py"))
PACKAGE = "airflow_provider_ecall"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Dotted provider names and repository paths the prose mentions.
DOTTED = re.compile(rf"\b{PACKAGE}(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
PATHS = re.compile(
    rf"\b(?:{PACKAGE}|example_dags|docs|tests|scripts|benchmarks)/[A-Za-z0-9_./-]*[A-Za-z0-9_]"
)
#: A MyST ``include`` or ``literalinclude`` directive with its options.
INCLUDE = re.compile(
    r"^```\{(?:literal)?include\} (?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)*)", re.MULTILINE
)
MARKER = re.compile(r"^\s*# \[(?P<edge>START|END) (?P<name>[\w-]+)\]$", re.MULTILINE)


def snippets() -> Iterator[tuple[str, str]]:
    """``(where, code)`` of every Python block of the docs."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            yield f"{doc.relative_to(ROOT)}:{line}", match.group(1)


SNIPPETS = list(snippets())


def parse(code: str) -> ast.Module:
    """Parse a snippet; one that ends in a block opener (``with DAG(...):``) gets a body."""
    code = "\n".join(line for line in code.splitlines() if line.strip() != "...") + "\n"
    try:
        return ast.parse(code)
    except SyntaxError:
        return ast.parse(code + "    pass\n")


def resolve(dotted: str) -> object:
    """The object a dotted provider name names (the longest importable module, then
    attributes); raises when any part is missing."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


def accepted_keywords(target: object) -> set[str] | None:
    """The keywords a provider class or function takes; None when it takes any."""
    from airflow_provider_ecall.notifications._policy import ALERT_OPTIONS
    from airflow_provider_ecall.notifications.ecall import EcallNotifier
    from airflow_provider_ecall.utils.compat import BaseOperator

    if isinstance(target, type) and issubclass(target, EcallNotifier):
        return {*target.spec.fields, *ALERT_OPTIONS, "ecall_conn_id", "context"}
    if not callable(target):
        return None
    names: set[str] = set()
    classes = target.__mro__ if isinstance(target, type) else (target,)
    for owner in classes:
        function = owner.__init__ if isinstance(owner, type) else owner  # type: ignore[misc]
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in parameters if p.kind is not p.VAR_KEYWORD}
        takes_more = any(p.kind is p.VAR_KEYWORD for p in parameters)
        if not takes_more:
            return names
        if owner is BaseOperator:
            return None  # BaseOperator's own **kwargs
    return None


def provider_imports(tree: ast.Module) -> dict[str, str]:
    """``{local name: dotted provider name}`` of a snippet's imports."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[where for where, _ in SNIPPETS])
def test_each_snippet_parses_and_its_provider_names_and_keywords_exist(
    where: str, code: str
) -> None:
    tree = parse(code)
    imported = provider_imports(tree)
    for dotted in imported.values():
        resolve(dotted)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            dotted = imported.get(node.func.id)
            if dotted is None:
                continue
            allowed = accepted_keywords(resolve(dotted))
            given = {k.arg for k in node.keywords if k.arg is not None}
            if allowed is not None:
                assert given <= allowed, f"{where}: {node.func.id}() takes no {given - allowed}"


def test_there_are_snippets_to_check() -> None:
    assert len(SNIPPETS) >= 20


def mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return sorted(
        {
            (doc.relative_to(ROOT).as_posix(), found.rstrip("."))
            for doc in DOCS
            for found in pattern.findall(doc.read_text(encoding="utf-8"))
        }
    )


@pytest.mark.parametrize(("doc", "dotted"), mentions(DOTTED))
def test_every_provider_name_the_docs_mention_exists(doc: str, dotted: str) -> None:
    resolve(dotted)


#: What `make docs` writes (gitignored): named in the docs, absent from a fresh clone.
BUILT = ("docs/_build", "docs/_api")


@pytest.mark.parametrize(
    ("doc", "path"), [(d, p) for d, p in mentions(PATHS) if not p.startswith(BUILT)]
)
def test_every_repository_path_the_docs_mention_exists(doc: str, path: str) -> None:
    assert (ROOT / path).exists() or (ROOT / doc).parent.joinpath(path).exists(), path


def test_an_invented_name_or_keyword_would_be_caught() -> None:
    """The checks can fail: a wrong module, a wrong name and a wrong keyword."""
    with pytest.raises(ModuleNotFoundError):
        resolve(f"{PACKAGE}x.client")
    with pytest.raises(AttributeError):
        resolve(f"{PACKAGE}.client.text.measure")
    from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
    from airflow_provider_ecall.operators.ecall import EcallSmsOperator

    notifier_keywords = accepted_keywords(EcallSmsNotifier)
    assert notifier_keywords is not None
    assert "dedup_key" in notifier_keywords
    assert "dedup_keys" not in notifier_keywords
    assert accepted_keywords(EcallSmsOperator) is None or "callback" in (
        accepted_keywords(EcallSmsOperator) or set()
    )


def included_regions() -> list[tuple[str, str, str, str]]:
    """``(where, included file, start-after, end-before)`` of every region a page of the site
    includes."""
    found = []
    for doc in (ROOT / "docs").glob("*.md"):
        text = doc.read_text(encoding="utf-8")
        for match in INCLUDE.finditer(text):
            options = dict(re.findall(r"^:([\w-]+): ?(.*)$", match.group("options"), re.M))
            if "start-after" in options or "end-before" in options:
                line = text[: match.start()].count("\n") + 1
                found.append(
                    (
                        f"{doc.relative_to(ROOT)}:{line}",
                        (doc.parent / match.group("path")).resolve().relative_to(ROOT).as_posix(),
                        options.get("start-after", ""),
                        options.get("end-before", ""),
                    )
                )
    return sorted(found)


REGIONS = included_regions()


def region_problems(text: str, start: str, end: str) -> list[str]:
    """What is wrong with including the region of ``text`` between ``start`` and ``end``."""
    if not (start and end):
        return ["include by both start-after and end-before"]
    problems = [
        f"{marker!r} is there {text.count(marker)} times"
        for marker in (start, end)
        if text.count(marker) != 1
    ]
    if not problems and text.index(start) > text.index(end):
        problems.append(f"{end!r} comes before {start!r}")
    if start.startswith("[START ") and end != start.replace("[START ", "[END ", 1):
        problems.append(f"{start!r} ends at {end!r}")
    return problems


@pytest.mark.parametrize(
    ("where", "path", "start", "end"), REGIONS, ids=[where for where, *_ in REGIONS]
)
def test_each_included_region_exists_once_in_its_file(
    where: str, path: str, start: str, end: str
) -> None:
    assert region_problems((ROOT / path).read_text(encoding="utf-8"), start, end) == []


def test_there_are_included_examples_to_check() -> None:
    assert sum(path.startswith("example_dags/") for _, path, _, _ in REGIONS) >= 10


def example_markers() -> dict[str, list[tuple[str, str]]]:
    """Marker name -> ``(file, START or END)`` in the order they appear."""
    found: dict[str, list[tuple[str, str]]] = {}
    for example in EXAMPLES:
        for match in MARKER.finditer(example.read_text(encoding="utf-8")):
            found.setdefault(match.group("name"), []).append((example.name, match.group("edge")))
    return found


def test_every_example_marker_is_paired_and_included_by_a_page() -> None:
    markers = example_markers()
    assert len(markers) >= 10  # the examples were read
    included = {start for _, path, start, _ in REGIONS if path.startswith("example_dags/")}
    for name, seen in markers.items():
        assert [edge for _, edge in seen] == ["START", "END"], f"{name}: {seen}"
        assert seen[0][0] == seen[1][0], f"{name} starts and ends in different files"
        assert f"[START {name}]" in included, f"no page includes the example region {name}"


def test_a_missing_doubled_misordered_or_mismatched_region_would_be_caught() -> None:
    good = "# [START a]\nx = 1\n# [END a]\n"
    assert region_problems(good, "[START a]", "[END a]") == []
    assert region_problems(good, "[START b]", "[END b]") != []
    assert region_problems(good + good, "[START a]", "[END a]") != []
    assert region_problems("# [END a]\n# [START a]\n", "[START a]", "[END a]") != []
    assert region_problems(good + "# [END b]\n", "[START a]", "[END b]") != []
    assert region_problems(good, "[START a]", "") != []
