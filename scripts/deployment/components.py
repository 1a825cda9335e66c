"""Airflow 3.3 as a deployment: configuration, the five components and the REST API client.

Everything listens on 127.0.0.1 on ports the kernel picked. The api-server also serves the
execution API the workers report to (``[core] execution_api_server_url``); every component
shares one JWT secret so the tokens one issues, the others accept.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scripts.deployment.services import Proc, Processes, free_port, port_open, wait_for

ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
BIN = Path(sys.executable).parent
API_USER = "e2e"
#: Seconds without a heartbeat before the scheduler gives up on a task's worker (default
#: 300): short, so a killed worker's task is rescheduled within the run's budget.
HEARTBEAT_TIMEOUT = 20
WORKER_CONCURRENCY = 8
FINISHED = {"success", "failed"}


@dataclass(frozen=True)
class Deployment:
    """What the components share: environment, home, API address and user password."""

    env: dict[str, str]
    home: Path
    api_port: int
    api_password: str

    @property
    def api_url(self) -> str:
        """The api-server's base URL."""
        return f"http://127.0.0.1:{self.api_port}"


def configure(
    home: Path,
    database: str,
    broker: str,
    connections: Mapping[str, str],
    extra: Mapping[str, str],
) -> Deployment:
    """The environment of every Airflow process: Postgres, Celery on Redis, our DAGs only.

    :param connections: ``AIRFLOW_CONN_<ID>`` JSON values by connection id.
    :param extra: more variables (the provider's settings, what the example DAGs read).
    """
    from cryptography.fernet import Fernet

    home.mkdir(parents=True)
    api_port, password = free_port(), secrets.token_urlsafe(18)
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({API_USER: password}), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            # Where eCall reaches the receiver: the base of the signed callback URLs.
            "AIRFLOW__ECALL__CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database.replace("+psycopg2", ""),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        }
    )
    for conn_id, value in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = value
    env.update(extra)
    return Deployment(env, home, api_port, password)


def _airflow(*args: str) -> list[str]:
    return [str(BIN / "airflow"), *args]


def migrate(procs: Processes, deployment: Deployment) -> None:
    """``airflow db migrate`` (fails the run when it fails)."""
    proc = procs.start("db-migrate", _airflow("db", "migrate"), deployment.env)
    if proc.popen.wait() != 0:
        raise RuntimeError(f"airflow db migrate failed; see {proc.log}")


def start_components(procs: Processes, deployment: Deployment) -> None:
    """api-server, scheduler, dag-processor, triggerer and one Celery worker."""
    env = deployment.env
    api = procs.start("api-server", _airflow("api-server", "--workers", "1"), env)
    procs.start("scheduler", _airflow("scheduler"), env)
    procs.start("dag-processor", _airflow("dag-processor"), env)
    procs.start("triggerer", _airflow("triggerer"), env)
    start_worker(procs, deployment, "celery-worker-1")
    wait_for("api-server", lambda: _api_healthy(deployment), 180, api)


def start_worker(procs: Processes, deployment: Deployment, name: str) -> Proc:
    """One ``airflow celery worker`` (its own process group, so it can die as a whole)."""
    argv = _airflow("celery", "worker", "--concurrency", str(WORKER_CONCURRENCY))
    return procs.start(name, [*argv, "--celery-hostname", f"{name}@%h"], deployment.env)


def _api_healthy(deployment: Deployment) -> bool:
    if not port_open(deployment.api_port):
        return False
    try:
        return requests.get(f"{deployment.api_url}/api/v2/monitor/health", timeout=5).ok
    except requests.RequestException:
        return False


class Api:
    """The REST API (``/api/v2``) with a JWT from the simple auth manager."""

    def __init__(self, deployment: Deployment) -> None:
        self.base = deployment.api_url
        answer = requests.post(
            f"{self.base}/auth/token",
            json={"username": API_USER, "password": deployment.api_password},
            timeout=30,
        )
        answer.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, body: object = None) -> Any:
        """One request; the decoded JSON answer.

        :raises requests.HTTPError: the API refused it.
        """
        answer = self.session.request(method, f"{self.base}/api/v2{path}", json=body, timeout=30)
        if not answer.ok:
            raise requests.HTTPError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def wait_for_dags(self, dag_ids: list[str], timeout: float) -> None:
        """Until the DAG processor has serialized every DAG in ``dag_ids``."""
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while missing and time.monotonic() < deadline:
            found = self.call("GET", "/dags?limit=100")["dags"]
            missing -= {dag["dag_id"] for dag in found}
            if missing:
                time.sleep(1)
        if missing:
            errors = self.call("GET", "/importErrors")
            raise RuntimeError(f"DAGs not parsed: {sorted(missing)}; import errors: {errors}")

    def trigger(self, dag_id: str, run_id: str | None = None) -> str:
        """Start a DAG run now; its run id."""
        body: dict[str, object] = {"logical_date": None}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return str(self.call("POST", f"/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        """The DAG run's state."""
        return str(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Poll until the run has finished; its final state (or the state at the timeout)."""
        deadline = time.monotonic() + timeout
        state = self.run_state(dag_id, run_id)
        while state not in FINISHED and time.monotonic() < deadline:
            time.sleep(1)
            state = self.run_state(dag_id, run_id)
        return state

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of the DAG, oldest first."""
        path = f"/dags/{dag_id}/dagRuns?limit=100&order_by=run_after"
        return list(self.call("GET", path)["dag_runs"])

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """A task's return value (as stored: JSON)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        return self.call("GET", path)["value"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones once per map index)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100"
        return list(self.call("GET", path)["task_instances"])

    def clear(self, dag_id: str, run_id: str, task_ids: list[str]) -> None:
        """Clear finished task instances so they run again (a deliberate re-run)."""
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "only_failed": False,
            "reset_dag_runs": True,
        }
        self.call("POST", f"/dags/{dag_id}/clearTaskInstances", body)


def component_logs(logs: Path, home: Path) -> list[Path]:
    """Every log file the run produced: process output and Airflow's own log tree."""
    found = sorted(path for path in logs.glob("*.log") if path.is_file())
    found += sorted(path for path in (home / "logs").rglob("*") if path.is_file())
    return found
