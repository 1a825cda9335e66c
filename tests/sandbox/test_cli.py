"""The ``ecall-sandbox`` command: startup line, masked message lines, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.client.transport import is_loopback
from airflow_provider_ecall.sandbox import SandboxMessage
from airflow_provider_ecall.sandbox.__main__ import format_message, main, preview

REPO = Path(__file__).resolve().parents[2]


def _start(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int]:
    port_file = tmp_path / "port"
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8", **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_ecall.sandbox",
            "--port-file",
            str(port_file),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=full_env,
    )
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"sandbox did not start: {process.communicate()}")
        time.sleep(0.05)
    return process, int(port_file.read_text())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_masked_lines_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    process, port = _start(tmp_path, "--password", "cli-secret-pw")
    try:
        response = requests.post(
            f"http://127.0.0.1:{port}/Api/Sms",
            data={
                "UserName": "sandbox-user",
                "Password": "cli-secret-pw",
                "Address": "+41791112233;+41791112244",
                "Message": "Task failed\nsee log " + "x" * 100,
                "JobID": "cli-job",
            },
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=20)

    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == f"eCall sandbox on http://127.0.0.1:{port} (user sandbox-user)"
    [line] = lines[1:]
    assert "sms" in line
    assert "+41******233;+41******244" in line
    assert "job=cli-job" in line
    assert "Task failed\u23cesee log xxx" in line
    assert "+41791112233" not in out
    assert "cli-secret-pw" not in out + err
    assert len(line.split("job=cli-job ", 1)[1]) <= 80


def test_cli_quiet_and_env_credentials(tmp_path: Path) -> None:
    env = {"ECALL_SANDBOX_USERNAME": "env-user", "ECALL_SANDBOX_PASSWORD": "env-pw"}
    process, port = _start(tmp_path, "--quiet", env=env)
    try:
        data = {
            "UserName": "env-user",
            "Password": "env-pw",
            "Address": "+41791112233",
            "Message": "x",
        }
        response = requests.post(f"http://127.0.0.1:{port}/Api/Sms", data=data, timeout=10)
        assert response.status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)

    assert process.returncode == 0, err
    assert out == ""


def test_cli_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "192.0.2.10"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("192.0.2.10", False),
        ("example.ch", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_preview_and_format() -> None:
    assert preview("a\r\nb\nc") == "a\u23ceb\u23cec"
    assert preview("y" * 200) == "y" * 79 + "\u2026"
    message = SandboxMessage(
        kind="voice",
        addresses=("+41447873070",),
        message="Call me",
        job_id=None,
        params={},
        received_at=datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc),
        method="POST",
    )
    assert format_message(message) == "16:30:00 voice to=+41******070 job=- Call me"
