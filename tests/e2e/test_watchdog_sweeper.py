"""The watchdog against a real Airflow REST server on every supported release: Airflow 3's
``airflow api-server`` (``/api/v2``, a token from the simple auth manager's ``/auth/token``)
and Airflow 2.11's ``airflow webserver`` (``/api/v1``, HTTP basic auth for a user made with
``airflow users create``). One server per module, shared by its tests.

A DAG with two failing tasks runs once under ``airflow dags test``: one task's notifier
pages the team, the other task has no callback. Then, against one eCall sandbox per module:

- two watchdogs sweep twice each, routed by the DAG's tag: eCall's records must show the
  notifier's alert and exactly one sweeper alert per failure nobody paged (the other task,
  the DAG run);
- the health endpoint and the dead-man's switch: no scheduler runs and the DAG never
  succeeded, so one poll opens one incident of each; a second watchdog pages nothing more;
- wrong Airflow credentials stop the start naming the setting.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.hooks.settings import client_for
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import airflow_at_least
from airflow_provider_ecall.watchdog._config import WatchdogConfigError, load_config
from airflow_provider_ecall.watchdog._loop import Watchdog
from tests.conftest import AirflowHome
from tests.e2e.conftest import sandbox_connection_env

FEATURE = "Watchdog: health and sweeper (REST)"
pytestmark = [pytest.mark.e2e, pytest.mark.compat(feature=FEATURE)]

TEAM = "+41791140002"
ON_CALL = "+41791140001"
DAGS = """
from datetime import datetime
from airflow_provider_ecall.utils.compat import DAG, BaseOperator
from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier


class Fail(BaseOperator):
    def execute(self, context):
        raise RuntimeError("disk full")


with DAG("wd_fails", schedule=None, start_date=datetime(2025, 1, 1), tags=["wd-nightly"]):
    Fail(task_id="load", on_failure_callback=EcallSmsNotifier(address="TEAM"))
    Fail(task_id="export")
""".replace("TEAM", TEAM)


@dataclass(frozen=True)
class RestServer:
    """A running Airflow REST server.

    :param url: its root URL.
    :param password: the password of its user ``admin``.
    :param major: 2 (webserver, ``/api/v1``) or 3 (api-server, ``/api/v2``).
    """

    url: str
    password: str
    major: int


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_command(
    airflow_home: AirflowHome, folder: Path, port: int, password: str
) -> tuple[list[str], dict[str, str], str]:
    """The command, its extra environment and the health path of this release's server."""
    if airflow_at_least("3.0"):
        passwords = folder / "passwords.json"
        passwords.write_text(json.dumps({"admin": password}))
        env = {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": "a-test-secret-" * 3,
        }
        command = ["api-server", "--port", str(port), "--workers", "1", "--host", "127.0.0.1"]
        return command, env, "/api/v2/monitor/health"
    user = ["--username", "admin", "--password", password, "--role", "Admin"]
    person = ["--firstname", "Watch", "--lastname", "Dog", "--email", "watchdog@example.com"]
    created = airflow_home.airflow("users", "create", *user, *person)
    assert created.returncode == 0, created.output[-3000:]
    env = {
        # the unit-test configuration's default is the no-login backend: say which one
        "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
        "AIRFLOW__WEBSERVER__SECRET_KEY": "a-test-secret-" * 3,
    }
    command = ["webserver", "--port", str(port), "--workers", "1", "--hostname", "127.0.0.1"]
    return command, env, "/health"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group; SIGKILL after a minute."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(proc.pid, sig)
        try:
            proc.wait(60)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def rest_server(
    airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RestServer]:
    """This release's REST server on the session's database (started once per module)."""
    port, password = _port(), "watch-pw"
    folder = tmp_path_factory.mktemp("rest")
    command, extra, health = _server_command(airflow_home, folder, port, password)
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("airflow")), *command],
        env={**airflow_home.env, **extra},
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group: the server's workers stop with it
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(url + health, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (folder / "server.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"airflow {command[0]} did not come up:\n{tail}")
            time.sleep(0.5)
        yield RestServer(url, password, 3 if airflow_at_least("3.0") else 2)
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[EcallSandbox]:
    """One eCall sandbox for the module: the notifier's alert must be in the records the
    sweepers read. Its tests tell their pages apart by recipient (team, on-call)."""
    with EcallSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def notified(airflow_home: AirflowHome, e2e_dags_folder: Path, sandbox: EcallSandbox) -> str:
    """The text of the notifier's alert, after ``wd_fails`` failed once."""
    (e2e_dags_folder / "wd_dags.py").write_text(DAGS, encoding="utf-8")
    folder = {"AIRFLOW__CORE__DAGS_FOLDER": str(e2e_dags_folder)}
    if not airflow_at_least("3.1"):
        # The REST API lists only DAGs with a row in the metadata database, which the DAG
        # processor writes in a deployment; `dags test` writes it only from 3.1 on.
        parsed = airflow_home.airflow("dags", "reserialize", env=folder)
        assert parsed.returncode == 0, parsed.output[-3000:]
    run = airflow_home.dags_test(
        "wd_fails", dags_folder=e2e_dags_folder, env=sandbox_connection_env(sandbox)
    )
    assert run.dag_run_state == "failed", run.output[-3000:]
    (alert,) = [m.message for m in sandbox.messages if m.addresses == (TEAM,)]
    assert alert.startswith("Airflow: task wd_fails.load failed (try 1)")
    return alert


def _settings(
    sandbox: EcallSandbox, server: RestServer, password: str | None = None, **more: str
) -> dict[str, str]:
    settings = {
        "ECALL_WATCHDOG_AIRFLOW_URL": server.url,
        "ECALL_WATCHDOG_AIRFLOW_USERNAME": "admin",
        "ECALL_WATCHDOG_AIRFLOW_PASSWORD": password or server.password,
        "ECALL_WATCHDOG_ECALL_CONNECTION": sandbox_connection_env(sandbox)[
            "AIRFLOW_CONN_ECALL_DEFAULT"
        ],
        "ECALL_WATCHDOG_TO": ON_CALL,
        "ECALL_WATCHDOG_GRACE": "0",
    }
    return {**settings, **{f"ECALL_WATCHDOG_{name.upper()}": value for name, value in more.items()}}


def _texts(sandbox: EcallSandbox, to: str) -> list[str]:
    return [m.message for m in sandbox.messages if m.addresses == (to,)]


def test_two_sweepers_page_once_per_failure_no_notifier_paged(
    notified: str, sandbox: EcallSandbox, rest_server: RestServer
) -> None:
    route = {"dags": "*", "tags": ["wd-nightly"], "dag_runs": True, "to": TEAM}
    config = load_config(
        _settings(sandbox, rest_server, routes=json.dumps([route]), sweep_grace="0")
    )
    watchdogs = [Watchdog(config, client_for(config.ecall)) for _ in range(2)]
    for watchdog in watchdogs:
        watchdog.check_start()
        assert watchdog.api.major == rest_server.major
    for _ in range(2):
        for watchdog in watchdogs:
            watchdog.sweeper.sweep(datetime.now(timezone.utc))
    texts = _texts(sandbox, TEAM)
    assert texts[0] == notified
    swept = sorted(t for t in texts if t.startswith("Airflow LATE ALERT"))
    assert len(texts) == 3, texts
    assert swept[0].startswith("Airflow LATE ALERT: DAG wd_fails failed at ")
    assert swept[1].startswith("Airflow LATE ALERT: task wd_fails.export failed (try 1)")
    assert all("no alert had reached eCall" in text for text in swept)


def test_health_and_deadman_open_one_incident_each(
    notified: str, sandbox: EcallSandbox, rest_server: RestServer
) -> None:
    config = load_config(_settings(sandbox, rest_server, deadman=json.dumps({"wd_fails": 3600})))
    first = Watchdog(config, client_for(config.ecall))
    readings = first.read(datetime.now(timezone.utc))
    assert first.api.major == rest_server.major
    assert readings["api-server"].healthy is True
    assert readings["metadatabase"].healthy is True
    assert readings["scheduler"].healthy is False  # no scheduler in this session
    assert readings["dag:wd_fails"].healthy is False
    first.poll()
    second = Watchdog(config, client_for(config.ecall))
    second.adopt_open_incidents()
    second.poll()
    texts = _texts(sandbox, ON_CALL)
    assert len([t for t in texts if ": scheduler DOWN since" in t]) == 1, texts
    assert len([t for t in texts if "DAG wd_fails has no successful run" in t]) == 1, texts
    assert not [t for t in texts if "metadatabase" in t or "api-server" in t], texts


def test_wrong_airflow_credentials_stop_the_start_naming_the_setting(
    sandbox: EcallSandbox, rest_server: RestServer
) -> None:
    config = load_config(
        _settings(sandbox, rest_server, "not-the-password", deadman='{"wd_fails": 3600}')
    )
    with pytest.raises(WatchdogConfigError) as caught:
        Watchdog(config, client_for(config.ecall)).check_start()
    assert caught.value.setting == "airflow_username"
    assert "not-the-password" not in str(caught.value)
