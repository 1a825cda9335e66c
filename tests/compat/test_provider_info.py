"""The provider info, against the schema and the ProvidersManager of the running Airflow.

Airflow ships the JSON schema of ``get_provider_info()`` (``provider_info.schema.json`` beside
its package); the ProvidersManager reads the same dictionary to register connection types,
notifiers, triggers and plugins. Every class and module the info names must import.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecall import get_provider_info

pytestmark = pytest.mark.compat(feature="Provider info: Airflow's schema, registration, plugin")

PACKAGE = "airflow-provider-ecall"


def _airflow_schema() -> dict[str, Any]:
    airflow = importlib.import_module("airflow")
    path = Path(airflow.__file__).with_name("provider_info.schema.json")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def test_provider_info_is_valid_against_the_schema_airflow_ships() -> None:
    jsonschema = importlib.import_module("jsonschema")
    schema = _airflow_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)

    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(get_provider_info())
    ]

    assert errors == []


def test_the_schema_check_refuses_a_malformed_info() -> None:
    """The check above can fail: a notifier given as a mapping breaks the schema."""
    jsonschema = importlib.import_module("jsonschema")
    schema = _airflow_schema()
    broken = {**get_provider_info(), "notifications": [{"class": "x"}]}

    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


def test_provider_info_declares_every_surface_the_package_has() -> None:
    info = get_provider_info()

    assert {"notifications", "sensors", "triggers", "plugins", "hooks", "operators"} <= set(info)
    assert [p["name"] for p in info["plugins"]] == ["ecall_callbacks"]


def _named_objects(info: dict[str, Any]) -> list[str]:
    """Every ``module`` or ``module.Class`` the provider info names."""
    modules = [
        module
        for key in ("hooks", "operators", "sensors", "triggers")
        for group in info[key]
        for module in group["python-modules"]
    ]
    classes = [*info["notifications"], *(p["plugin-class"] for p in info["plugins"])]
    classes += [c["hook-class-name"] for c in info["connection-types"]]
    return modules + classes


@pytest.mark.parametrize("dotted", _named_objects(get_provider_info()))
def test_every_module_and_class_the_info_names_imports(dotted: str) -> None:
    try:
        importlib.import_module(dotted)
    except ModuleNotFoundError:
        module, _, name = dotted.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type)


def test_providers_manager_registers_the_notifiers_and_the_plugin() -> None:
    manager = importlib.import_module("airflow.providers_manager").ProvidersManager()
    info = get_provider_info()

    assert manager.providers[PACKAGE].data["package-name"] == PACKAGE
    assert set(info["notifications"]) <= set(manager.notification)
    plugins = {(p.name, p.plugin_class) for p in manager.plugins if p.provider_name == PACKAGE}
    assert plugins == {(p["name"], p["plugin-class"]) for p in info["plugins"]}


LOAD_PLUGINS = textwrap.dedent(
    """
    import json
    from airflow import plugins_manager

    if hasattr(plugins_manager, "_get_plugins"):  # Airflow 3.2 and later
        plugins, errors = plugins_manager._get_plugins()
    else:
        plugins_manager.ensure_plugins_loaded()
        plugins, errors = plugins_manager.plugins, plugins_manager.import_errors
    print(json.dumps({"plugins": [p.name for p in plugins], "errors": errors}))
    """
)


def test_airflow_loads_the_callback_plugin_once_and_without_errors(tmp_path: Path) -> None:
    """Entry point ``airflow.plugins`` (what Airflow loads by default) and the provider
    info's ``plugins`` name the same plugin: Airflow loads it once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
    env |= {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_PLUGINS],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    assert loaded["plugins"].count("ecall_callbacks") == 1
    assert loaded["errors"] == {}
