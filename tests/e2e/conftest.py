"""Fixtures for end-to-end tests: real ``airflow`` commands in subprocesses.

The session's Airflow home (temporary ``AIRFLOW_HOME``, SQLite database migrated once) is the
``airflow_home`` fixture of ``tests/conftest.py``; this file adds the helpers e2e tests use:

- ``run_dags_test(dag_id, *, dags_folder=None, env=None, timeout=240) -> AirflowRun``:
  ``airflow dags test DAG_ID`` in a subprocess with the session's home and ``env`` on top
  (e.g. ``{"AIRFLOW_CONN_ECALL_DEFAULT": sandbox_connection_env(sb)}``).
  ``AirflowRun`` has ``returncode``, ``output`` (stdout and stderr) and ``dag_run_state``.
- ``sandbox_connection_env(sandbox) -> dict``: the environment variable that points
  ``ecall_default`` at a sandbox running in the test process.
- ``e2e_dags_folder``: an empty folder for DAG files a test writes (one per module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV, connection_json
from tests.conftest import AirflowHome, AirflowRun


def sandbox_connection_env(sandbox: EcallSandbox) -> dict[str, str]:
    """``{"AIRFLOW_CONN_ECALL_DEFAULT": <JSON>}`` for a running sandbox."""
    return {CONNECTION_ENV: connection_json(sandbox)}


@pytest.fixture(scope="session")
def run_dags_test(airflow_home: AirflowHome) -> Callable[..., AirflowRun]:
    """``airflow dags test`` in the session's Airflow home (see the module docstring)."""

    def run(
        dag_id: str,
        *,
        dags_folder: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 240,
    ) -> AirflowRun:
        return airflow_home.dags_test(dag_id, dags_folder=dags_folder, env=env, timeout=timeout)

    return run


@pytest.fixture(scope="module")
def e2e_dags_folder(airflow_home: AirflowHome, request: pytest.FixtureRequest) -> Path:
    """A fresh DAG folder for the calling test module."""
    folder = airflow_home.path / "e2e_dags" / request.module.__name__.rpartition(".")[2]
    folder.mkdir(parents=True)
    return folder
