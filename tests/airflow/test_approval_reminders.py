"""Reminders and escalation while an approval waits, in real Airflow: the notifier pushes a
sealed plan, the api-server's scan (here called with an injected clock) sends the latest
reminder due — an SMS whose own signed ``Answer`` URL records a reply — and the voice call,
each once, and nothing once the request is answered.

On 3.3 the whole wait runs under ``dag.test()`` (the plan is pushed through the task's own
XCom); on 3.1-3.3 a request is staged as in ``test_approval_requests.py``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_ecall.approvals.ids import request_job_id, request_of, short_code
from airflow_provider_ecall.approvals.plan import PLAN_KEY, open_plan
from airflow_provider_ecall.plugins.signing import CallbackSigner
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.airflow.approval_support import (
    ALICE,
    BASE,
    BOB,
    REQUESTED,
    Waiting,
    answers,
    reply_to_sms,
    run_with,
    staged,
)
from tests.airflow.conftest import SIGNING_KEY

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.plugins.reminders import ReminderScanner, Sent

__all__ = ["answers", "run_with", "staged"]  # fixtures from approval_support

pytestmark = [
    pytest.mark.compat(feature="Approvals by SMS: reminders and escalation", since="3.1"),
    pytest.mark.skipif(not airflow_at_least("3.1"), reason="human-in-the-loop needs 3.1"),
]
on_3_3 = pytest.mark.skipif(
    not airflow_at_least("3.3"), reason="dag.test() waits for a HITL answer from 3.3"
)

CALLED = "+41794445566"
MINUTE = 60.0
REMINDING = ", remind_every=timedelta(minutes=10), max_reminders=3"
ESCALATING = f', escalate_after=timedelta(minutes=30), escalate_to="{CALLED}"'


def scanner() -> ReminderScanner:
    """A scanner as the receiver makes one: its own store (one api-server worker)."""
    from airflow_provider_ecall.plugins._store import CallbackStore
    from airflow_provider_ecall.plugins.ecall import wake_waits
    from airflow_provider_ecall.plugins.reminders import ReminderScanner

    return ReminderScanner((SIGNING_KEY,), CallbackStore(wake_waits, 3600))


def sends(sandbox: EcallSandbox, suffix: str) -> list[Any]:
    return [m for m in sandbox.messages if (m.job_id or "").endswith(suffix)]


def outcomes(done: list[Sent]) -> list[tuple[str, str]]:
    return [(s.job_id.rsplit("-", 1)[-1], s.outcome) for s in done]


@on_3_3
def test_a_due_reminder_carries_its_own_answer_url_and_the_answer_stops_everything(
    run_with: Callable[..., tuple[Any, Waiting]],
) -> None:
    seen: dict[str, Any] = {}

    def script(w: Waiting) -> None:
        w.request()
        t0, scan = time.time(), scanner()
        seen["early"] = outcomes(scan.scan(t0 + MINUTE))
        seen["late"] = outcomes(scan.scan(t0 + 25 * MINUTE))  # r1 and r2 due: r2 only
        seen["again"] = outcomes(scanner().scan(t0 + 25 * MINUTE))
        [reminder] = sends(w.sandbox, "-r2")
        seen["request"], w.sms = w.sms, reminder  # the reply answers the reminder
        seen["reply"] = w.reply("1", ALICE)
        seen["after"] = outcomes(scan.scan(t0 + 35 * MINUTE))  # r3 and the call were due

    run, waiting = run_with("", script, REMINDING + ESCALATING)
    sandbox, ti_id = waiting.sandbox, waiting.ti_id
    assert seen["early"] == []
    assert seen["late"] == [("r2", "sent")]
    assert seen["again"] == []
    assert seen["reply"] == "OK"
    assert seen["after"] == []
    [reminder] = sends(sandbox, "-r2")
    assert reminder.kind == "sms"
    assert reminder.addresses == (REQUESTED,)
    assert reminder.job_id == request_job_id(ti_id, "r2")
    lines = reminder.message.splitlines()
    assert lines[:4] == [
        "Reminder 2: Deploy approve_deploy to production?",
        f"Reply with a number (ref {short_code(ti_id)}):",
        "1 Approve",
        "2 Reject",
    ]
    assert lines[4].endswith("/tasks/approve/required_actions?map_index=-1")
    token = urlsplit(reminder.params["Answer"]).path.split("/")[-2]
    signed = CallbackSigner((SIGNING_KEY,)).verify(token, "approval", now=time.time())
    assert signed.job_id == reminder.job_id  # signed for the reminder, not the request
    assert seen["request"].job_id == request_job_id(ti_id, "n")
    assert [m.job_id[-2:] for m in sandbox.messages if request_of(m.job_id)] == ["-n", "r2"]
    assert sandbox.messages_of("voice") == []
    assert [m.message for m in sandbox.messages if ALICE in m.addresses] == [
        "Approve: approve_deploy/approve, by alice"
    ]
    assert str(run.get_task_instance("approve").state) == "success"


@on_3_3
def test_the_plan_in_xcom_is_sealed_and_the_escalation_calls(
    run_with: Callable[..., tuple[Any, Waiting]],
) -> None:
    seen: dict[str, Any] = {}

    def script(w: Waiting) -> None:
        w.request()
        seen["xcom"] = _plan_xcom(w.ti_id)
        seen["calls"] = outcomes(scanner().scan(time.time() + 31 * MINUTE))
        w.reply("2", BOB)

    _run, waiting = run_with("", script, ESCALATING)
    sealed = seen["xcom"]
    assert isinstance(sealed, str)
    for clear in (REQUESTED[3:], CALLED[3:], "Deploy", "Approve"):
        assert clear not in sealed
    plan = open_plan(sealed, (SIGNING_KEY,))
    assert (plan.sms_to, plan.voice_to, plan.remind_every) == ((), (CALLED,), None)
    assert seen["calls"] == [("v1", "sent")]
    [call] = waiting.sandbox.messages_of("voice")
    assert call.addresses == (CALLED,)
    assert call.job_id == request_job_id(waiting.ti_id, "v1")
    code = " ".join(short_code(waiting.ti_id))
    assert call.message == (
        "An approval is waiting for your answer: Deploy approve_deploy to production? "
        f"Its reference is {code}. Please answer the SMS or in Airflow."
    )


def _plan_xcom(ti_id: str) -> object:
    """The plan's XCom of one task instance, as stored."""
    import uuid

    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.get(TaskInstance, uuid.UUID(ti_id))
        [value] = (
            session.query(XComModel.value)
            .filter(XComModel.key == PLAN_KEY, XComModel.run_id == ti.run_id)
            .all()
        )
        return XComModel.deserialize_value(value)


# -- staged requests: every Airflow with human-in-the-loop tasks (3.1+) --------------------


def ask(operator: Any, ti: Any, **more: Any) -> float:
    """Call the notifier as the operator does; when it asked."""
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    asked = time.time()
    EcallHITLNotifier(address=REQUESTED, base_url=BASE, **more)({"task": operator, "ti": ti})
    return asked


def test_a_staged_reminder_is_answered_through_its_url_and_nothing_follows(
    staged: Callable[..., tuple[Any, Any]],
    answers: TestClient,
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    sandbox = ecall_sandbox_connection
    operator, ti = staged()
    t0 = ask(operator, ti, remind_every=600, escalate_after=1800)
    assert outcomes(scanner().scan(t0 + 11 * MINUTE)) == [("r1", "sent")]
    [reminder] = sends(sandbox, "-r1")
    assert reminder.message.startswith("Reminder 1: Ship it?\n")
    assert reply_to_sms(answers, reminder, "1", ALICE) == 200
    assert outcomes(scanner().scan(t0 + 40 * MINUTE)) == []
    assert [m.job_id[-2:] for m in sandbox.messages if request_of(m.job_id)] == ["-n", "r1"]
    assert [m.message for m in sandbox.messages if ALICE in m.addresses] == [
        "Approve: staged_approval/approve, by alice"
    ]


def test_an_answer_after_the_scan_listed_the_request_stops_its_reminder(
    staged: Callable[..., tuple[Any, Any]],
    answers: TestClient,
    ecall_sandbox_connection: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_ecall.plugins.reminders import ReminderScanner

    operator, ti = staged()
    t0 = ask(operator, ti, remind_every=600)
    [request] = ecall_sandbox_connection.messages
    opened = ReminderScanner._open

    def answered_meanwhile(self: ReminderScanner, pending: Any) -> Any:
        assert reply_to_sms(answers, request, "2", BOB) == 200  # between the listing and the send
        return opened(self, pending)

    monkeypatch.setattr(ReminderScanner, "_open", answered_meanwhile)
    assert outcomes(scanner().scan(t0 + 11 * MINUTE)) == [("r1", "answered")]
    assert sends(ecall_sandbox_connection, "-r1") == []


def test_two_scanners_at_once_send_each_reminder_and_call_once(
    staged: Callable[..., tuple[Any, Any]], ecall_sandbox_connection: EcallSandbox
) -> None:
    operator, ti = staged()
    t0 = ask(operator, ti, remind_every=600, escalate_after=1800, escalate_to=CALLED)
    start, done = threading.Barrier(2), []

    def scan() -> None:
        one = scanner()
        start.wait()
        done.extend(outcomes(one.scan(t0 + 31 * MINUTE)))

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(done) == [("r3", "sent"), ("v1", "sent")]
    assert len(sends(ecall_sandbox_connection, "-r3")) == 1
    assert len(sends(ecall_sandbox_connection, "-v1")) == 1


def test_a_send_ecall_already_has_is_not_sent_again(
    staged: Callable[..., tuple[Any, Any]], ecall_sandbox_connection: EcallSandbox
) -> None:
    from airflow_provider_ecall.hooks.ecall import EcallHook

    operator, ti = staged()
    t0 = ask(operator, ti, remind_every=600)
    job_id = request_job_id(str(ti.id), "r1")
    EcallHook().send_sms(address=REQUESTED, message="sent before a crash", job_id=job_id)
    assert outcomes(scanner().scan(t0 + 11 * MINUTE)) == [("r1", "known")]
    assert [m.message for m in sends(ecall_sandbox_connection, "-r1")] == ["sent before a crash"]


def test_a_request_no_longer_waiting_gets_no_reminder(
    staged: Callable[..., tuple[Any, Any]], ecall_sandbox_connection: EcallSandbox
) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    operator, ti = staged()
    t0 = ask(operator, ti, remind_every=600)
    with create_session() as session:  # e.g. failed by its timeout, without a default
        session.get(TaskInstance, ti.id).state = "failed"
    assert outcomes(scanner().scan(t0 + 11 * MINUTE)) == []
    assert sends(ecall_sandbox_connection, "-r1") == []


def test_reminders_without_a_signing_key_fail_the_parse_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    monkeypatch.delenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS", raising=False)
    with pytest.raises(ValueError, match=r"need \[ecall\] callback_signing_keys"):
        EcallHITLNotifier(address=REQUESTED, remind_every=600)
    with pytest.raises(ValueError, match="remind_every must be at least 10 seconds"):
        EcallHITLNotifier(address=REQUESTED, remind_every=5)
    EcallHITLNotifier(address=REQUESTED)  # without reminders no key is needed


def test_the_api_server_lifespan_runs_the_scans_that_send_a_due_reminder(
    staged: Callable[..., tuple[Any, Any]],
    ecall_sandbox_connection: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.api_fastapi.app import lifespan
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.plugins.ecall import fastapi_apps

    monkeypatch.setenv("AIRFLOW__ECALL__APPROVAL_RESPONDERS", f"{ALICE}=alice")
    monkeypatch.setenv("AIRFLOW__ECALL__HITL_REMINDER_INTERVAL", "1")
    operator, ti = staged()
    ask(operator, ti, remind_every=10)
    fastapi_apps.cache_clear()
    try:
        [plugin] = fastapi_apps()
    finally:
        fastapi_apps.cache_clear()
    server = FastAPI(lifespan=lifespan)  # Airflow's api-server lifespan, as create_app has it
    server.mount(plugin["url_prefix"], plugin["app"])  # as Airflow's init_plugins does
    with TestClient(server):
        deadline = time.monotonic() + 30
        while not sends(ecall_sandbox_connection, "-r1") and time.monotonic() < deadline:
            time.sleep(0.2)
    assert plugin["app"].state.reminders.passes >= 2
    [reminder] = sends(ecall_sandbox_connection, "-r1")
    assert reminder.message.startswith("Reminder 1: Ship it?\n")


def test_the_example_reminds_and_calls_where_a_signing_key_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "example_dags" / "ecall_sms_approval.py"
    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS", SIGNING_KEY)
    monkeypatch.setenv("ECALL_APPROVAL_REMIND_SECONDS", "20")
    [notifier] = runpy.run_path(str(example))["approve"].notifiers
    assert (notifier.remind_every, notifier.escalate_after) == (20.0, 3600.0)
    assert notifier.escalate_to == "+41790000022"
    monkeypatch.delenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS")
    [notifier] = runpy.run_path(str(example))["approve"].notifiers
    assert (notifier.remind_every, notifier.escalate_after) == (None, None)
