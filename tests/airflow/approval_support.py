"""What the approval tests share: the numbers, the receiver with approvals on, a request
staged on every Airflow with human-in-the-loop tasks (``staged``), a whole run under
``dag.test()`` on 3.3 (``run_with``), and readers of what the sandbox and Airflow hold.

Fixtures are imported by the test modules that use them."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from airflow_provider_ecall.approvals.ids import request_of
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import reply_params
from airflow_provider_ecall.utils.compat import DAG, airflow_at_least
from tests.airflow.conftest import CALLBACK_TOKEN, SIGNING_KEY, forget_callbacks

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from fastapi.testclient import TestClient

ALICE, BOB, STRANGER, REQUESTED = "+41791112233", "+41791112244", "+41791112255", "+41790000001"
LEASED = "+41790000000"
BASE = "https://airflow.example.com"


def approval_dag(extra: str = "", notifier: str = "") -> str:
    return f"""
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    with DAG("approve_deploy", schedule=None, start_date=START) as dag:
        ApprovalOperator(
            task_id="approve",
            subject="Deploy {{{{ dag.dag_id }}}} to production?",
            body="Build 1234 passed its checks.",
            notifiers=[EcallHITLNotifier(address="{REQUESTED}", base_url="{BASE}"{notifier})],
            {extra}
        )
    """


@dataclass
class Waiting:
    """The request SMS of a DAG run under ``dag.test()`` (which runs in the main thread:
    the task runner sets signal handlers), and replies to it from a helper thread."""

    sandbox: EcallSandbox
    receiver: TestClient
    sms: Any = None
    ti_id: str = ""
    last: str = ""

    def request(self, timeout: float = 60) -> Any:
        """The request SMS, once the task waits for its answer."""
        deadline = time.monotonic() + timeout
        while self.sms is None and time.monotonic() < deadline:
            found = [m for m in self.sandbox.messages if (m.job_id or "").endswith("-n")]
            if found and _waiting():
                self.sms = found[-1]
                self.ti_id = request_of(self.sms.job_id) or ""
            time.sleep(0.2)
        assert self.sms is not None, "no approval request was sent"
        return self.sms

    def reply(self, text: str, sender: str, *, signed: bool = True, job: bool = True) -> str:
        sms = self.request()
        path = urlsplit(sms.params["Answer"]).path.removeprefix("/ecall")
        if not signed:
            path = f"/callbacks/{CALLBACK_TOKEN}/approval"
        params = reply_params(
            address_from=sender,
            address_to=LEASED,
            message=text,
            job_id=sms.job_id if job else None,
        )
        self.last = f"{path}?{urlencode(params)}"
        return self.again()

    def again(self) -> str:
        """The last reply's callback once more, exactly as before (eCall repeating it)."""
        answer = self.receiver.get(self.last)
        assert answer.status_code == 200, answer.text
        return answer.text


def _states() -> set[str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return {str(ti.state) for ti in session.query(TaskInstance)}


def _waiting() -> bool:
    return bool(_states() & {"deferred", "awaiting_input"})


def _release(waiting: Waiting, within: float = 120) -> None:
    """End a run whose script failed, so that ``dag.test()`` returns and the test reports the
    failure instead of hanging (the task runner's signal handlers replace pytest-timeout's):
    bob rejects where a request can be answered, else the waiting task is failed directly."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    deadline, answered = time.monotonic() + within, False
    while time.monotonic() < deadline:
        states = _states()
        if states and states <= {"success", "failed", "skipped", "upstream_failed"}:
            return
        if states & {"deferred", "awaiting_input"}:
            if not answered and waiting.sms is not None:
                answered = True
                forget_callbacks()
                with contextlib.suppress(Exception):
                    waiting.reply("2", BOB)
                time.sleep(5)
                continue
            with create_session() as session:
                for ti in session.query(TaskInstance):
                    if str(ti.state) in {"deferred", "awaiting_input"}:
                        ti.state = "failed"
            return
        time.sleep(0.5)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch, airflow_home: object) -> TestClient:
    """The receiver with approvals on: alice and bob mapped, signed URLs configured."""
    from airflow.api_fastapi.app import init_auth_manager
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.plugins.approvals import read_responders
    from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app

    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_BASE_URL", BASE)
    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS", SIGNING_KEY)
    init_auth_manager()
    forget_callbacks()
    responders = read_responders(f"{ALICE}=alice 0041791112244=bob:Bob")
    settings = ReceiverSettings((CALLBACK_TOKEN,), (SIGNING_KEY,), responders=responders)
    return TestClient(build_app(settings))


Script = Callable[[Waiting], None]


@pytest.fixture
def run_with(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, answers: TestClient
) -> Callable[[str, Script], tuple[DagRun, Waiting]]:
    """Run the approval DAG (``extra`` operator arguments; ``notifier``: more notifier
    arguments, starting with ``, ``) while ``script`` replies from a thread; a script that
    fails still releases the run (bob rejects) and fails the test."""

    def go(extra: str, script: Script, notifier: str = "") -> tuple[DagRun, Waiting]:
        dag = load_dag(approval_dag(extra, notifier))
        waiting = Waiting(ecall_sandbox_connection, answers)
        failed: list[BaseException] = []

        def replies() -> None:
            try:
                script(waiting)
            except BaseException as exc:
                failed.append(exc)
                _release(waiting)

        thread = threading.Thread(target=replies)
        thread.start()
        run = dag.test()
        thread.join(60)
        if failed:
            raise failed[0]
        return run, waiting

    return go


@pytest.fixture
def staged(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """A finished run's ``approve`` task instance made a waiting request (deferred, with a
    ``hitl_detail`` row); returns the operator and the task instance."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import delete

    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_BASE_URL", BASE)
    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS", SIGNING_KEY)
    init_auth_manager()
    run = load_dag(
        """
        with DAG("staged_approval", schedule=None, start_date=START) as dag:
            @task
            def approve():
                pass

            approve()
        """
    ).test()

    def stage(assigned: list[dict[str, str]] | None = None) -> tuple[Any, Any]:
        operator = ApprovalOperator(
            task_id="approve", subject="Ship it?", body="All green.", assigned_users=assigned
        )
        with create_session() as session:
            ti = session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id).one()
            ti.state, ti.next_method, ti.next_kwargs = TaskInstanceState.DEFERRED, "x", {}
            session.add(
                HITLDetail(
                    ti_id=ti.id,
                    options=operator.options,
                    subject=operator.subject,
                    body=operator.body,
                    defaults=None,
                    multiple=False,
                    params={},
                    assignees=assigned,
                )
            )
            session.flush()
            session.expunge(ti)
        return operator, ti

    yield stage
    with create_session() as session:
        session.execute(delete(HITLDetail))


def reply_to_sms(client: TestClient, sms: Any, text: str, sender: str) -> int:
    """Reply to a request SMS through its ``Answer`` URL, as eCall calls back; the status."""
    path = urlsplit(sms.params["Answer"]).path.removeprefix("/ecall")
    params = reply_params(address_from=sender, address_to=LEASED, message=text, job_id=sms.job_id)
    return client.get(f"{path}?{urlencode(params)}").status_code


def hitl_detail(ti_id: str) -> Any:
    """The request's ``hitl_detail`` row as stored now (detached)."""
    from airflow.models.hitl import HITLDetail
    from airflow.utils.session import create_session

    with create_session() as session:
        key = uuid.UUID(ti_id) if airflow_at_least("3.2") else ti_id
        detail = session.get(HITLDetail, key)
        session.expunge_all()
        return detail


def texts_to(sandbox: EcallSandbox, number: str) -> list[str]:
    """The texts the sandbox accepted for ``number``, oldest first."""
    return [m.message for m in sandbox.messages if number in m.addresses]
