"""The approval step of ``make demo``: ``ecall_sms_approval`` asks by SMS, the approver answers.

``airflow dags test`` runs the DAG; its ``approve_deploy`` task sends the request SMS to the
sandbox and waits for an answer. Beside it runs a real ``airflow api-server`` on the demo's
database, with the eCall callback receiver mounted (``[ecall] callback_signing_keys``) and the
approver's number mapped to ``alice`` (``[ecall] approval_responders``). While the task
waits the api-server reminds the approver by SMS (after 10 s) and calls the on-call number
(after 12 s); once called, the approver's phone replies ``1`` to the reminder: the sandbox
calls the signed ``Answer`` URL the reminder carried, as eCall would; the receiver records
the answer through Airflow's own route function and texts back the confirmation. The step
then reads Airflow's HITL detail from the REST API and adds what it shows (and the
receiver's answer) to the DAG's log.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from airflow_provider_ecall.client.privacy import mask_address
from scripts.demo.airflow_runs import Run, start_airflow
from scripts.demo.phones import APPROVAL_DAG, APPROVAL_ON_CALL, APPROVER, APPROVER_USER

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox import EcallSandbox

TASK = "approve_deploy"
#: The longest the api-server may take to start, and the DAG run to finish (seconds).
STARTUP, RUN_LIMIT = 120.0, 240.0
WAITING = {"awaiting_input", "deferred"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def approval_settings(port: int) -> dict[str, str]:
    """What the api-server and the DAG run need: the receiver on (one signing key), the
    approver mapped to alice, the UI's address for the SMS's link, REST reads without a
    login (all-admins)."""
    url = f"http://127.0.0.1:{port}"
    return {
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__ECALL__CALLBACK_BASE_URL": url,
        "AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS": secrets.token_urlsafe(32),
        "AIRFLOW__ECALL__APPROVAL_RESPONDERS": f"{APPROVER}={APPROVER_USER}",
        # The api-server looks for reminders and calls due every second.
        "AIRFLOW__ECALL__HITL_REMINDER_INTERVAL": "1",
    }


def _until(check: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


class Rest:
    """The demo api-server's REST API (``/api/v2``, all-admins: no login)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> Any:
        """One GET; its JSON, or None when the server is not there or refuses."""
        try:
            answer = requests.get(f"{self.base}/api/v2{path}", timeout=10)
        except requests.RequestException:
            return None
        return answer.json() if answer.ok else None

    def task(self) -> tuple[str, str | None] | None:
        """``(run id, state)`` of the (only) run's ``approve_deploy``, once there is a run."""
        runs = (self.get(f"/dags/{APPROVAL_DAG}/dagRuns") or {}).get("dag_runs") or []
        if not runs:
            return None
        run_id = str(runs[0]["dag_run_id"])
        ti = self.get(f"/dags/{APPROVAL_DAG}/dagRuns/{run_id}/taskInstances/{TASK}") or {}
        return run_id, ti.get("state")

    def detail(self, run_id: str) -> dict[str, Any]:
        """Airflow's HITL detail of ``approve_deploy`` (``GET …/hitlDetails``)."""
        path = f"/dags/{APPROVAL_DAG}/dagRuns/{run_id}/taskInstances/{TASK}/-1/hitlDetails"
        return dict(self.get(path) or {})


def _reply_when_asked(rest: Rest, sandbox: EcallSandbox) -> list[str]:
    """Once the task waits and the escalation has called, the approver replies ``1`` to the
    latest SMS it got (the reminder) through its ``Answer`` URL; what happened, as lines for
    the log."""

    def called() -> bool:
        task = rest.task()
        call = any(APPROVAL_ON_CALL in m.addresses for m in sandbox.messages_of("voice"))
        return call and task is not None and task[1] in WAITING

    if not _until(called, RUN_LIMIT):
        return ["DEMO: no escalation call while the task waited"]
    texts = [m for m in sandbox.messages_of("sms") if APPROVER in m.addresses]
    latest = texts[-1]
    status = sandbox.answer(str(latest.job_id), "1")
    return [
        f"DEMO: the reminder {latest.job_id} and the call went out; "
        f"{mask_address(APPROVER)} replied '1' to it by SMS; the receiver answered {status}"
    ]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def approval_step(env: Mapping[str, str], home: Path, sandbox: EcallSandbox) -> Run:
    """Run ``ecall_sms_approval`` with the api-server beside it and the approver's reply.

    :param env: the demo's Airflow environment (with the DAG's sandbox settings).
    :param home: the demo's ``AIRFLOW_HOME``.
    :param sandbox: the demo's sandbox (the approver's phone answers through it).
    """
    logs, port = home / "demo-logs", _free_port()
    env = {**env, **approval_settings(port)}
    log, started = logs / f"{APPROVAL_DAG}.log", time.monotonic()
    rest = Rest(port)
    api = start_airflow(["api-server", "--workers", "1"], env, logs / "api-server.log", group=True)
    try:
        if not _until(lambda: rest.get("/monitor/health") is not None, STARTUP):
            log.write_text("DEMO: the api-server did not start (see api-server.log)\n")
            return Run(APPROVAL_DAG, 1, time.monotonic() - started, log)
        test = start_airflow(["dags", "test", APPROVAL_DAG], env, log, group=True)
        try:
            said = _reply_when_asked(rest, sandbox)
            code = test.wait(timeout=RUN_LIMIT)
        except subprocess.TimeoutExpired:
            said, code = ["DEMO: the run did not finish"], 1
        finally:
            _stop(test)
        said.append(_shown(rest))
    finally:
        _stop(api)
    with log.open("a", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in said))
    return Run(APPROVAL_DAG, code, time.monotonic() - started, log)


def _shown(rest: Rest) -> str:
    """What Airflow's HITL detail says of the answer (one log line)."""
    task = rest.task()
    if task is None:
        return "DEMO: no run of the DAG"
    detail = rest.detail(task[0])
    user = detail.get("responded_by_user") or {}
    return (
        f"DEMO: Airflow's hitlDetails: responded_by {user.get('name')} "
        f"(id {user.get('id')}), chosen {detail.get('chosen_options')}; task {task[1]}"
    )
