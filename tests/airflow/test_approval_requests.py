"""Approvals by SMS on every Airflow with human-in-the-loop tasks (3.1-3.3), without
``dag.test()`` waiting (3.1's and 3.2's in-process runner cannot run Airflow's HITL
trigger): a real run's task instance is put in the waiting state with its request row as
Airflow's execution API writes them, the notifier is called as the operator calls it, and
replies go through the receiver to Airflow's own route function. The whole wait under
``dag.test()`` on 3.3 is in ``test_approvals.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall.approvals.ids import request_of, short_code
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.airflow.approval_support import (
    ALICE,
    BASE,
    BOB,
    REQUESTED,
    STRANGER,
    answers,
    hitl_detail,
    reply_to_sms,
    staged,
    texts_to,
)

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = [
    pytest.mark.compat(
        feature="Approvals by SMS: HITL notifier, replies as responses", since="3.1"
    ),
    pytest.mark.skipif(not airflow_at_least("3.1"), reason="human-in-the-loop needs 3.1"),
]

WHAT = "staged_approval/approve"

__all__ = ["answers", "staged"]  # fixtures from approval_support


def _ask(operator: Any, ti: Any) -> Any:
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    EcallHITLNotifier(address=REQUESTED, base_url=BASE)({"task": operator, "ti": ti})


def test_a_mapped_assigned_number_answers_and_others_are_refused(
    staged: Callable[..., tuple[Any, Any]],
    answers: TestClient,
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    sandbox = ecall_sandbox_connection
    operator, ti = staged([{"id": "bob", "name": "Bob"}])
    _ask(operator, ti)
    (sms,) = sandbox.messages
    ti_id = str(ti.id)
    assert request_of(sms.job_id) == ti_id
    assert sms.message.splitlines()[:5] == [
        "Ship it?",
        "All green.",
        f"Reply with a number (ref {short_code(ti_id)}):",
        "1 Approve",
        "2 Reject",
    ]
    assert sms.message.splitlines()[5].startswith(f"{BASE}/dags/staged_approval/runs/")

    assert reply_to_sms(answers, sms, "1", STRANGER) == 200
    assert reply_to_sms(answers, sms, "1", ALICE) == 200
    assert reply_to_sms(answers, sms, "9", BOB) == 200
    assert hitl_detail(ti_id).responded_at is None
    assert reply_to_sms(answers, sms, "2", BOB) == 200
    assert reply_to_sms(answers, sms, "1", BOB) == 200

    detail = hitl_detail(ti_id)
    assert detail.chosen_options == ["Reject"]
    assert detail.responded_by == {"id": "bob", "name": "Bob"}
    assert texts_to(sandbox, STRANGER) == ["Not recorded: this number may not answer approvals"]
    assert texts_to(sandbox, ALICE) == [
        f"Not recorded ({WHAT}): alice is not assigned to this request"
    ]
    assert texts_to(sandbox, BOB) == [
        f"Not recorded ({WHAT}): reply with a number from 1 to 2",
        f"Reject: {WHAT}, by Bob",
        f"Not recorded ({WHAT}): this request was already answered",
    ]


def test_a_request_no_longer_waiting_is_refused(
    staged: Callable[..., tuple[Any, Any]],
    answers: TestClient,
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    operator, ti = staged()
    _ask(operator, ti)
    (sms,) = ecall_sandbox_connection.messages
    with create_session() as session:  # e.g. failed by its timeout, without a default
        session.get(TaskInstance, ti.id).state = "failed"
    assert reply_to_sms(answers, sms, "1", ALICE) == 200
    assert hitl_detail(str(ti.id)).responded_at is None
    assert texts_to(ecall_sandbox_connection, ALICE) == [
        f"Not recorded ({WHAT}): this request is no longer waiting (timed out or finished)"
    ]


def test_a_reply_to_a_superseded_request_is_refused(
    staged: Callable[..., tuple[Any, Any]],
    answers: TestClient,
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    """The task was cleared or retried after the request went out: Airflow gave its next try
    a new task instance id, so a reply to the old request's SMS answers nothing."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    operator, ti = staged()
    _ask(operator, ti)
    (sms,) = ecall_sandbox_connection.messages
    with create_session() as session:
        current = session.get(TaskInstance, ti.id)
        # What a clear or a retry does: up to 3.3 the row gets a new id; from 3.4 the old row
        # is archived and its successor returned. The next try waits again.
        successor = current.prepare_db_for_next_try(session)
        (successor or current).state = "deferred"
    assert reply_to_sms(answers, sms, "1", ALICE) == 200
    with create_session() as session:
        answered = session.scalar(
            select(func.count()).select_from(HITLDetail).where(HITLDetail.responded_at.is_not(None))
        )
    assert answered == 0
    assert texts_to(ecall_sandbox_connection, ALICE) == [
        "Not recorded: this request no longer exists (the task was cleared or re-run)"
    ]


def test_without_the_callback_settings_the_request_goes_without_an_answer_url(
    staged: Callable[..., tuple[Any, Any]],
    ecall_sandbox_connection: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    operator, ti = staged()
    monkeypatch.delenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS")
    with caplog.at_level("WARNING"):
        _ask(operator, ti)
    (sms,) = ecall_sandbox_connection.messages
    assert "Answer" not in sms.params
    assert f"ref {short_code(str(ti.id))}" in sms.message  # still answerable by code, or in the UI
    # Airflow 3.1+ logs through structlog (to the console), 2.x-style logging to caplog.
    said = caplog.text + "".join(capfd.readouterr())
    assert "SMS replies cannot reach Airflow" in said
