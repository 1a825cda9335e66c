"""Approvals by SMS in real Airflow 3.3: an ``ApprovalOperator`` with ``EcallHITLNotifier`` runs
under ``dag.test()`` (in a thread: the task waits for its answer), the request SMS goes to the
sandbox, and replies come back through the callback receiver, which records them with
Airflow's own route function — or refuses them, by SMS."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from airflow_provider_ecall.approvals.ids import request_of, short_code
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import reply_params
from airflow_provider_ecall.utils.compat import DAG, airflow_at_least
from tests.airflow.conftest import CALLBACK_TOKEN, SIGNING_KEY, forget_callbacks, ti_states

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from fastapi.testclient import TestClient

pytestmark = [
    pytest.mark.compat(
        feature="Approvals by SMS: HITL notifier, replies as responses", since="3.1"
    ),
    # 3.1's and 3.2's dag.test() runs Airflow's HITL trigger in process, where it reads no
    # request and fails the task; their whole path is in make e2e, the receiver's part in
    # test_approval_requests.py.
    pytest.mark.skipif(
        not airflow_at_least("3.3"), reason="dag.test() waits for a HITL answer from 3.3"
    ),
]

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


def texts_to(sandbox: EcallSandbox, number: str) -> list[str]:
    return [m.message for m in sandbox.messages if number in m.addresses]


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


def _detail(ti_id: str) -> Any:
    import uuid

    from airflow.models.hitl import HITLDetail
    from airflow.utils.session import create_session

    with create_session() as session:
        key = uuid.UUID(ti_id) if airflow_at_least("3.2") else ti_id
        detail = session.get(HITLDetail, key)
        session.expunge_all()
        return detail


def test_the_request_sms_asks_with_numbered_options_a_link_and_a_signed_answer_url(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    seen: list[str] = []
    run, waiting = run_with("", lambda w: seen.append(w.reply("1", ALICE)))
    sms, ti_id = waiting.sms, waiting.ti_id
    lines = sms.message.splitlines()
    assert lines[:3] == [
        "Deploy approve_deploy to production?",
        "Build 1234 passed its checks.",
        f"Reply with a number (ref {short_code(ti_id)}):",
    ]
    assert lines[3:5] == ["1 Approve", "2 Reject"]
    assert lines[5].startswith(f"{BASE}/dags/approve_deploy/runs/")
    assert lines[5].endswith("/tasks/approve/required_actions?map_index=-1")
    assert sms.addresses == (REQUESTED,)
    answer_url = sms.params["Answer"]
    assert answer_url.startswith(f"{BASE}/ecall/callbacks/s1.")
    assert answer_url.endswith("/approval")

    assert seen == ["OK"]
    assert ti_states(run)["approve"][0] == "success"
    detail = _detail(ti_id)
    assert detail.chosen_options == ["Approve"]
    assert detail.responded_by == {"id": "alice", "name": "alice"}
    assert texts_to(waiting.sandbox, ALICE) == ["Approve: approve_deploy/approve, by alice"]


WHAT = "approve_deploy/approve"


def test_refused_replies_record_nothing_and_say_why_then_a_mapped_user_answers(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    pending: list[object] = []
    repeats: list[str] = []

    def script(w: Waiting) -> None:
        w.reply("1", STRANGER)
        w.reply("1", ALICE)
        w.reply("yes please", BOB)
        w.reply("3", BOB)
        pending.append(_detail(w.ti_id).responded_at)
        w.reply("reject", BOB)
        repeats.append(w.again())  # the same callback again
        w.reply("1", BOB)  # a second answer, after the first

    run, waiting = run_with('assigned_users=[{"id": "bob", "name": "Bob"}],', script)
    assert pending == [None]
    assert repeats == ["OK (repeat)"]
    assert texts_to(waiting.sandbox, STRANGER) == [
        "Not recorded: this number may not answer approvals"
    ]
    assert texts_to(waiting.sandbox, ALICE) == [
        f"Not recorded ({WHAT}): alice is not assigned to this request"
    ]
    assert texts_to(waiting.sandbox, BOB) == [
        f"Not recorded ({WHAT}): reply with a number from 1 to 2",
        f"Not recorded ({WHAT}): reply with a number from 1 to 2",
        f"Reject: {WHAT}, by Bob",
        f"Not recorded ({WHAT}): this request was already answered",
    ]
    assert ti_states(run)["approve"][0] == "success"
    detail = _detail(waiting.ti_id)
    assert detail.chosen_options == ["Reject"]
    assert detail.responded_by == {"id": "bob", "name": "Bob"}


def test_a_reply_without_job_id_names_its_request_by_code(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    def script(w: Waiting) -> None:
        w.reply("1", ALICE, signed=False, job=False)  # no JobID, no code: which request?
        w.reply(f"{short_code(w.request() and w.ti_id).lower()} 1", ALICE, signed=False, job=False)

    run, waiting = run_with("", script)
    assert texts_to(waiting.sandbox, ALICE) == [
        "Not recorded: no waiting request: reply to its SMS or include its ref code",
        f"Approve: {WHAT}, by alice",
    ]
    assert ti_states(run)["approve"][0] == "success"
    assert _detail(waiting.ti_id).responded_by == {"id": "alice", "name": "alice"}


def _time_out(w: Waiting) -> None:
    w.request()
    if airflow_at_least("3.3"):  # the scheduler's sweep times it out (dag.test has none)
        import logging
        from types import SimpleNamespace

        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

        time.sleep(1.5)
        SchedulerJobRunner.check_awaiting_input_timeouts(SimpleNamespace(log=logging.getLogger()))


def test_a_reply_after_the_timeout_is_refused(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    run, waiting = run_with('response_timeout=timedelta(seconds=1), defaults="Reject",', _time_out)
    waiting.reply("1", ALICE)
    assert ti_states(run)["approve"][0] == "success"
    detail = _detail(waiting.ti_id)
    assert detail.chosen_options == ["Reject"]
    assert detail.responded_by is None
    assert texts_to(waiting.sandbox, ALICE) == [
        f"Not recorded ({WHAT}): this request timed out (its default answer was taken)"
    ]
