"""The pytest plugin: fixtures work here, in a fresh pytest run, and via the entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV

REPO = Path(__file__).resolve().parents[2]

INNER_TEST = """
import json, os, pathlib, requests

def test_sandbox(ecall_sandbox):
    pathlib.Path("url.txt").write_text(ecall_sandbox.base_url)
    data = {"UserName": ecall_sandbox.username, "Password": ecall_sandbox.password,
            "Address": "+41791112233", "Message": "hi"}
    assert requests.post(ecall_sandbox.base_url + "/Api/Sms", data=data, timeout=5).ok
    assert len(ecall_sandbox.messages_of("sms")) == 1

def test_connection(ecall_sandbox_connection):
    conn = json.loads(os.environ["AIRFLOW_CONN_ECALL_DEFAULT"])
    assert conn["host"] == ecall_sandbox_connection.base_url
"""


def test_ecall_sandbox_fixture_is_running(ecall_sandbox: EcallSandbox) -> None:
    assert isinstance(ecall_sandbox, EcallSandbox)
    response = requests.get(f"{ecall_sandbox.base_url}/Api/Cache/GetNextMessage", timeout=5)
    assert response.status_code == 401


def test_connection_fixture_sets_the_airflow_connection(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    connection = json.loads(os.environ[CONNECTION_ENV])

    assert connection == {
        "conn_type": "ecall",
        "host": ecall_sandbox_connection.base_url,
        "login": "sandbox-user",
        "password": "sandbox-password",
    }
    assert connection["host"].startswith("http://127.0.0.1:")


def test_plugin_in_a_fresh_pytest_run_starts_and_stops_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop(CONNECTION_ENV, None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "airflow_provider_ecall.sandbox.pytest_plugin", "test_inner.py"]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    url = (tmp_path / "url.txt").read_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/Api/State", timeout=5)


def test_pyproject_entry_point_names_this_plugin() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.entry-points.pytest11]", 1)[1].split("[", 1)[0]
    found = re.search(r'^ecall_sandbox\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert found is not None
    module = import_module(found.group(1))

    assert callable(module.ecall_sandbox)
    assert callable(module.ecall_sandbox_connection)
    assert 'ecall-sandbox = "airflow_provider_ecall.sandbox.__main__:main"' in text


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, airflow_provider_ecall.sandbox.pytest_plugin, airflow_provider_ecall.sandbox;"
        "heavy = ('airflow', 'pendulum', 'http.server', 'requests');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "print(','.join(heavy))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == ""
