"""The watchdog as users run it (``python -m airflow_provider_ecall.watchdog``), paging
through the sandbox about an Airflow api-server that does not answer: one SMS when the
incident opens, none from a restarted watchdog, a clean stop on SIGTERM, clear start errors,
and no password or full number in its output.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox

NUMBER = "+41791234567"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def _env(sandbox: EcallSandbox, **extra: str) -> dict[str, str]:
    conn = {
        "conn_type": "ecall",
        "host": sandbox.base_url,
        "login": sandbox.username,
        "password": sandbox.password,
    }
    return {
        "PATH": "/usr/bin:/bin",
        "ECALL_WATCHDOG_AIRFLOW_URL": f"http://127.0.0.1:{_closed_port()}",
        "ECALL_WATCHDOG_ECALL_CONNECTION": json.dumps(conn),
        "ECALL_WATCHDOG_TO": NUMBER,
        "ECALL_WATCHDOG_NAME": "test",
        "ECALL_WATCHDOG_GRACE": "1",
        "ECALL_WATCHDOG_POLL_INTERVAL": "1",
        **extra,
    }


@pytest.fixture
def start() -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def run(env: dict[str, str]) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_ecall.watchdog"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_for(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    return out


def test_an_unreachable_api_server_pages_once_even_across_a_restart(
    ecall_sandbox: EcallSandbox, start: object
) -> None:
    env = _env(ecall_sandbox)
    first = start(env)  # type: ignore[operator]
    _wait_for(lambda: len(ecall_sandbox.messages) == 1)
    time.sleep(2.5)  # more polls: still one
    out = _stop(first)
    (sms,) = ecall_sandbox.messages
    assert sms.message.startswith("Airflow test: api-server DOWN since")
    assert sms.job_id is not None
    assert sms.job_id.startswith("afw-")
    assert sms.job_id.endswith("-open")
    assert "signal SIGTERM: stopping" in out
    again = start(env)  # type: ignore[operator]
    time.sleep(4)  # grace + several polls
    out += _stop(again)
    assert len(ecall_sandbox.messages) == 1
    assert "still open: taken over" in out
    assert NUMBER not in out
    assert ecall_sandbox.password not in out


def test_two_watchdogs_that_see_the_outage_at_different_moments_page_once(
    ecall_sandbox: EcallSandbox, start: object
) -> None:
    """No heartbeat dates an unreachable api-server: each watchdog starts the incident at
    its own first reading, so before paging it asks eCall whether one is open already."""
    env = _env(ecall_sandbox, ECALL_WATCHDOG_GRACE="3")
    first = start(env)  # type: ignore[operator]
    time.sleep(1.5)  # the second starts before the first has paged: nothing to take over
    second = start(env)  # type: ignore[operator]
    _wait_for(lambda: len(ecall_sandbox.messages) == 1)
    time.sleep(4)  # the second's grace ends: it finds the first one's incident
    out = _stop(first) + _stop(second)
    assert len(ecall_sandbox.messages) == 1
    assert "was opened by another watchdog: taken over" in out


@pytest.mark.parametrize(
    ("login", "password", "words"),
    [("u", "no", "eCall refused its login/password"), ("u", None, "has no password")],
)
def test_wrong_or_missing_ecall_credentials_stop_the_start_naming_the_setting(
    ecall_sandbox: EcallSandbox, start: object, login: str, password: str | None, words: str
) -> None:
    conn = {"host": ecall_sandbox.base_url, "login": login, "password": password}
    proc = start(  # type: ignore[operator]
        _env(ecall_sandbox, ECALL_WATCHDOG_ECALL_CONNECTION=json.dumps(conn))
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "setting ecall_connection (env ECALL_WATCHDOG_ECALL_CONNECTION)" in out
    assert words in out
    assert ecall_sandbox.messages == []
