"""``docs/architecture.md`` stays true: every module it names exists, and every
``module.py:Name`` it names is defined in that module (a class, a function or a method)."""

from __future__ import annotations

import re
from pathlib import Path

import airflow_provider_ecall

PACKAGE = Path(airflow_provider_ecall.__file__).parent
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
#: A module or folder as the page names it, optionally with a name in it:
#: ``client/client.py``, ``utils/``, ``policy.py``, ``client/client.py:EcallClient.send``.
_NAMED = re.compile(r"^(?P<path>[\w/]+(?:\.py|/))(?::(?P<name>[\w.]+))?$")
_OUTSIDE = ("scripts/", "tests/", "benchmarks/")


def named_modules(text: str) -> list[tuple[Path, str | None]]:
    """``(path, name or None)`` for each module the text names in backticks."""
    found = []
    for span in re.findall(r"`([^`\n]+)`", text):
        match = _NAMED.match(span)
        if match is None or ("/" not in span and not match["path"].endswith(".py")):
            continue
        base = ROOT if match["path"].startswith(_OUTSIDE) else PACKAGE
        found.append((base / match["path"], match["name"]))
    return found


def defines(path: Path, name: str) -> bool:
    """Whether ``Class.method`` / ``function`` / ``CONSTANT`` is defined in ``path``."""
    source = path.read_text(encoding="utf-8")
    *owners, last = name.split(".")
    wanted = [rf"^\s*class {re.escape(owner)}\b" for owner in owners]
    wanted.append(rf"^\s*(?:async def|def|class) {re.escape(last)}\b|^{re.escape(last)}\b.*=")
    return all(re.search(pattern, source, re.MULTILINE) for pattern in wanted)


def test_the_reader_finds_modules_and_names(tmp_path: Path) -> None:
    text = "`client/client.py:EcallClient.send`, `utils/`, `policy.py`, `make e2e`, `a.b`"
    assert named_modules(text) == [
        (PACKAGE / "client/client.py", "EcallClient.send"),
        (PACKAGE / "utils/", None),
        (PACKAGE / "policy.py", None),
    ]
    module = tmp_path / "m.py"
    module.write_text("class A:\n    def f(self): ...\nLIMIT = 3\n")
    assert defines(module, "A.f")
    assert defines(module, "LIMIT")
    assert not defines(module, "A.g")


def test_every_module_the_architecture_page_names_exists() -> None:
    named = named_modules(DOC.read_text(encoding="utf-8"))
    assert len(named) > 40  # the page was read
    missing = [str(path.relative_to(ROOT)) for path, _ in named if not path.exists()]
    assert missing == []
    undefined = [f"{path.name}:{name}" for path, name in named if name and not defines(path, name)]
    assert undefined == []
