"""Sphinx configuration of the documentation site (``make docs``).

The pages are the Markdown files of this folder (MyST), the changelog and the benchmarks are
included from the repository root, examples are included from ``example_dags/`` by their
``[START name]`` / ``[END name]`` markers, and the API reference is generated from the
docstrings of every public module (``api.md``, templates in ``_templates/``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# autodoc imports the provider, and the provider imports Airflow: give Airflow a home of its
# own so that building the docs never writes to ~/airflow, and keep its start-up lines quiet.
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / "docs" / "_build" / "airflow-home"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from airflow_provider_ecall import __version__  # noqa: E402

PACKAGE = "airflow_provider_ecall"

project = "airflow-provider-ecall"
author = "airflow-provider-ecall developers"
release = version = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.autosummary"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path = ["_templates"]

myst_heading_anchors = 4

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"

html_theme = "furo"
html_title = f"airflow-provider-ecall {release}"

# Every reference must resolve. There are no intersphinx inventories (the build is offline),
# so names of the standard library and of other packages are not linked and not checked;
# private modules (``_name``) are left out of the reference on purpose.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(builtins|typing|collections|abc|datetime|dataclasses|os|socket|http|argparse"
        r"|logging|pathlib|enum|types|asyncio|threading|concurrent)(\..*)?",
    ),
    (r"py:.*", r"(airflow|jinja2|requests|pendulum|pydantic|pytest|urllib3|defusedxml)(\..*)?"),
    (r"py:.*", rf"{PACKAGE}(\.\w+)*\._\w+(\..*)?"),
    (r"py:.*", r"_\w+(\..*)?"),
]
#: Names of other packages as signatures write them, bare (imported for type checking only),
#: and the classes of private modules that public signatures name.
nitpick_ignore = [
    (f"py:{role}", name)
    for role in ("class", "exc", "obj")
    for name in [
        "AirflowFailException",
        "AirflowSensorTimeout",
        "BaseOperator",
        "Context",
        "DAG",
        "Element",
        "FastAPI",
        "Session",
        "Stats",
        "timedelta",
        "AlertOptions",
        "AlertPolicy",
        "CallbackStore",
        "Interval",
        "TriggerKwargs",
    ]
]


def _outside_the_package(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: Any
) -> bool | None:
    """A module's classes and functions defined elsewhere (Airflow's, which ``utils.compat``
    exports) are not the provider's API: leave them out."""
    if what != "module" or not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return None  # data too: a type alias's __module__ is typing's
    module = getattr(obj, "__module__", None)
    return True if isinstance(module, str) and not module.startswith(PACKAGE) else None


def _object(full: str) -> object:
    """The Python object a documented full name names (its modules imported)."""
    first, _, rest = full.partition(".")
    found: object = importlib.import_module(first)
    for part in rest.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            found = importlib.import_module(f"{getattr(found, '__name__', '')}.{part}")
    return found


def _by_suffix(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.reference | None:
    """Resolve a short Python reference (``EcallHook.send_sms`` in a docstring of another
    module, a type alias in an annotation, ``client.SmsMessage`` for a lazy re-export) to
    the provider object whose documented full name ends with it. One object documented under
    two public names (a re-export) counts once; distinct objects go to the one nearest the
    referring module; a tie, or no match, leaves the warning standing."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    short = target.removeprefix(f"{PACKAGE}.")
    tail = short.rsplit(".", 1)[-1]
    domain: Any = env.get_domain("py")
    candidates: dict[int, list[str]] = {}
    for name in sorted(domain.objects):
        if not name.startswith(f"{PACKAGE}.") or "._" in name:
            continue
        if name.endswith(f".{short}") or (short != target and name.endswith(f".{tail}")):
            candidates.setdefault(id(_object(name)), []).append(name)
    here = str(node.get("py:module") or "").split(".")

    def nearness(names: list[str]) -> int:
        parts = names[0].split(".")
        return next(
            (i for i, (a, b) in enumerate(zip(parts, here, strict=False)) if a != b),
            min(len(parts), len(here)),
        )

    ranked = sorted(candidates.values(), key=nearness, reverse=True)
    if not ranked or (len(ranked) > 1 and nearness(ranked[0]) == nearness(ranked[1])):
        return None
    full = ranked[0][0]
    # A type alias is documented as data while an annotation refers to it as a class.
    role = {"data": "data", "attribute": "attr"}.get(domain.objects[full].objtype, "obj")
    found: nodes.reference | None = domain.resolve_xref(
        env, node.get("refdoc", ""), app.builder, role, full, node, contnode
    )
    return found


def setup(app: Sphinx) -> None:
    app.connect("autodoc-skip-member", _outside_the_package)
    app.connect("missing-reference", _by_suffix)
