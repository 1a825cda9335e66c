"""Approvals by SMS on every Airflow with human-in-the-loop tasks (3.1-3.3), without
``dag.test()`` waiting (3.1's and 3.2's in-process runner cannot run Airflow's HITL
trigger): a real run's task instance is put in the waiting state with its request row as
Airflow's execution API writes them, the notifier is called as the operator calls it, and
replies go through the receiver to Airflow's own route function. The whole wait under
``dag.test()`` on 3.3 is in ``test_approvals.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest

from airflow_provider_ecall.approvals.ids import request_of, short_code
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import reply_params
from airflow_provider_ecall.utils.compat import DAG, airflow_at_least
from tests.airflow.conftest import CALLBACK_TOKEN, SIGNING_KEY, forget_callbacks

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = [
    pytest.mark.compat(
        feature="Approvals by SMS: HITL notifier, replies as responses", since="3.1"
    ),
    pytest.mark.skipif(not airflow_at_least("3.1"), reason="human-in-the-loop needs 3.1"),
]

ALICE, BOB, STRANGER, ASKED, LEASED = (
    "+41791112233",
    "+41791112244",
    "+41791112255",
    "+41790000001",
    "+41790000000",
)
BASE = "https://airflow.example.com"
WHAT = "staged_approval/approve"


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


@pytest.fixture
def replies(airflow_home: object) -> TestClient:
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.plugins.approvals import read_responders
    from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app

    forget_callbacks()
    responders = read_responders(f"{ALICE}=alice,{BOB}=bob:Bob")
    return TestClient(
        build_app(ReceiverSettings((CALLBACK_TOKEN,), (SIGNING_KEY,), responders=responders))
    )


def _ask(operator: Any, ti: Any) -> Any:
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    EcallHITLNotifier(address=ASKED, base_url=BASE)({"task": operator, "ti": ti})


def _reply(client: TestClient, sms: Any, text: str, sender: str) -> int:
    path = urlsplit(sms.params["Answer"]).path.removeprefix("/ecall")
    params = reply_params(address_from=sender, address_to=LEASED, message=text, job_id=sms.job_id)
    return client.get(f"{path}?{urlencode(params)}").status_code


def _detail(ti_id: str) -> Any:
    from airflow.models.hitl import HITLDetail
    from airflow.utils.session import create_session

    with create_session() as session:
        key = uuid.UUID(ti_id) if airflow_at_least("3.2") else ti_id
        detail = session.get(HITLDetail, key)
        session.expunge_all()
        return detail


def texts_to(sandbox: EcallSandbox, number: str) -> list[str]:
    return [m.message for m in sandbox.messages if number in m.addresses]


def test_a_mapped_assigned_number_answers_and_others_are_refused(
    staged: Callable[..., tuple[Any, Any]],
    replies: TestClient,
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

    assert _reply(replies, sms, "1", STRANGER) == 200
    assert _reply(replies, sms, "1", ALICE) == 200
    assert _reply(replies, sms, "9", BOB) == 200
    assert _detail(ti_id).responded_at is None
    assert _reply(replies, sms, "2", BOB) == 200
    assert _reply(replies, sms, "1", BOB) == 200

    detail = _detail(ti_id)
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
    replies: TestClient,
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    operator, ti = staged()
    _ask(operator, ti)
    (sms,) = ecall_sandbox_connection.messages
    with create_session() as session:  # e.g. failed by its timeout, without a default
        session.get(TaskInstance, ti.id).state = "failed"
    assert _reply(replies, sms, "1", ALICE) == 200
    assert _detail(str(ti.id)).responded_at is None
    assert texts_to(ecall_sandbox_connection, ALICE) == [
        f"Not recorded ({WHAT}): this request is no longer waiting (timed out or finished)"
    ]
