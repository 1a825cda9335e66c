"""Callbacks resume the deferred tasks they are news for, in a real metadata database: a
delivery notification the tasks waiting for its job (which ask ``Api/State`` once and finish,
or wait on the same trigger with the same deadline), a reply the reply waits it matches.
(The whole path under a real scheduler and triggerer is in ``make e2e``.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.delivery import wait
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import callback_url, delivery_params, reply_params
from airflow_provider_ecall.sensors.ecall import EcallDeliverySensor, EcallReplySensor
from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger
from airflow_provider_ecall.utils.compat import (
    DAG,
    AirflowFailException,
    AirflowSensorTimeout,
    airflow_at_least,
)
from tests.airflow.conftest import CALLBACK_TOKEN as TOKEN

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = [
    # One row with the receiver's refusal before 3.0 (tests/compat/test_inbound_versions.py).
    pytest.mark.compat(
        feature="Inbound SMS: asset-watcher trigger, reply sensor, callback receiver", since="3.0"
    ),
    pytest.mark.skipif(not airflow_at_least("3.0"), reason="the callback receiver needs 3.0"),
]

PHONE, OTHER, LEASED = "+41791112233", "+41791112244", "+41790000000"
DAG_BODY = """
    with DAG("wake_waits", schedule=None, start_date=START) as dag:
        @task
        def first():
            pass

        @task
        def second():
            pass

        first() >> second()
"""


def _trigger(job_id: str, deadline: datetime | None = None) -> EcallDeliveryTrigger:
    return EcallDeliveryTrigger(
        job_ids=[job_id],
        ecall_conn_id="ecall_default",
        poll_interval=3600,
        deadline=(deadline or datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(),
    )


@pytest.fixture
def defer(load_dag: Callable[..., DAG]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Defers the two task instances of a real run (``first``, ``second``) on the triggers
    given by task id, as the triggerer would find them."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import delete

    run = load_dag(DAG_BODY).test()

    def put(triggers: dict[str, Any]) -> None:
        with create_session() as session:
            for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id):
                row = Trigger.from_object(triggers[ti.task_id])
                session.add(row)
                session.flush()
                ti.state, ti.trigger_id = TaskInstanceState.DEFERRED, row.id
                ti.next_method, ti.next_kwargs = "execute_complete", {}

    yield put
    with create_session() as session:
        session.execute(delete(TaskInstance).where(TaskInstance.run_id == run.run_id))
        session.execute(delete(Trigger))


@pytest.fixture
def waiting(defer: Callable[[dict[str, Any]], None]) -> dict[str, EcallDeliveryTrigger]:
    """``first`` waits for the delivery of job ``j-wake``, ``second`` for ``j-other``."""
    triggers = {"first": _trigger("j-wake"), "second": _trigger("j-other")}
    defer(triggers)
    return triggers


def _rows() -> dict[str, tuple[str, dict[str, Any] | None]]:
    """``{task_id: (state, the event it resumed with)}`` of the deferred run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter(TaskInstance.dag_id == "wake_waits").all()
        return {ti.task_id: (str(ti.state), _event_of(ti.next_kwargs)) for ti in rows}


def _event_of(next_kwargs: object) -> dict[str, Any] | None:
    """The resume event in a task instance's stored ``next_kwargs`` (serde-encoded on 3.3)."""
    if not next_kwargs:
        return None
    try:
        from airflow.sdk.serde import deserialize
    except ImportError:  # 3.0 - 3.2 store it plainly
        decoded = next_kwargs
    else:
        decoded = deserialize(next_kwargs)
    event = decoded.get("event") if isinstance(decoded, dict) else None
    return event if isinstance(event, dict) else None


def _report(job_id: str, code: int = 8) -> str:
    params = delivery_params(number=PHONE, result_code=code, result_text="x", job_id=job_id)
    return callback_url(f"/callbacks/{TOKEN}/delivery", params)


def test_a_delivery_report_resumes_only_the_task_waiting_for_its_job(
    waiting: dict[str, EcallDeliveryTrigger], receiver: TestClient
) -> None:
    before = _rows()
    assert {task: state for task, (state, _) in before.items()} == {
        "first": "deferred",
        "second": "deferred",
    }

    answer = receiver.get(_report("j-wake"))

    # No asset is declared: the waiting task took the report, so eCall hears 200.
    assert (answer.status_code, answer.text) == (200, "OK")
    rows = _rows()
    assert rows["second"] == ("deferred", None)
    state, event = rows["first"]
    assert state == "scheduled"
    assert event is not None
    assert event["status"] == "reported"
    assert event["trigger"] == waiting["first"].serialize()[1]
    assert PHONE not in repr(event)  # task instances store their event: no number in it


def test_a_report_nobody_waits_for_and_no_asset_takes_is_refused_for_a_retry(
    waiting: dict[str, EcallDeliveryTrigger], receiver: TestClient
) -> None:
    assert receiver.get(_report("j-unknown")).status_code == 503
    assert {state for state, _ in _rows().values()} == {"deferred"}


def _sent(client: EcallClient, job_id: str) -> None:
    client.send(SmsMessage(address=PHONE, message="Report ready", job_id=job_id))


def _event(trigger: EcallDeliveryTrigger) -> dict[str, Any]:
    from airflow_provider_ecall.delivery.terms import callback_event

    event = callback_event(trigger.serialize()[1], trigger.job_ids[0])
    assert event is not None
    return event


@pytest.mark.ecall_delivery(delay=0)
def test_resumed_and_final_the_sensor_succeeds_after_one_status_query(
    ecall_sandbox_connection: EcallSandbox, client: EcallClient
) -> None:
    _sent(client, "j-done")
    sensor = EcallDeliverySensor(task_id="check", job_id="j-done", deferrable=True)
    before = len(ecall_sandbox_connection.requests)

    outcome = sensor.execute_complete({}, _event(_trigger("j-done")))

    assert outcome["status"] == "delivered"
    assert [r.endpoint for r in ecall_sandbox_connection.requests[before:]] == ["state"]


@pytest.mark.ecall_delivery(delay=3600)
def test_resumed_but_not_final_the_sensor_waits_on_with_the_same_deadline(
    ecall_sandbox_connection: EcallSandbox, client: EcallClient
) -> None:
    try:
        from airflow.sdk.exceptions import TaskDeferred
    except ImportError:  # before 3.2
        from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

    _sent(client, "j-slow")
    trigger = _trigger("j-slow")
    sensor = EcallDeliverySensor(task_id="check", job_id="j-slow", deferrable=True)

    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute_complete({}, _event(trigger))

    assert deferred.value.trigger.serialize() == trigger.serialize()
    assert deferred.value.method_name == "execute_complete"


@pytest.mark.ecall_delivery(delay=3600)
def test_resumed_after_the_deadline_the_wait_times_out(
    ecall_sandbox_connection: EcallSandbox, client: EcallClient
) -> None:
    _sent(client, "j-late")
    late = _trigger("j-late", datetime.now(timezone.utc) - timedelta(seconds=1))

    with pytest.raises(AirflowSensorTimeout, match="not final in time"):
        wait.resume(_event(late), lambda: client)


def test_a_passing_status_failure_waits_on_and_a_lasting_one_fails(
    ecall_sandbox_connection: EcallSandbox, client: EcallClient
) -> None:
    trigger = _trigger("j-any")
    ecall_sandbox_connection.inject(endpoint="state", status=503, times=1)
    again = wait.resume(_event(trigger), lambda: client)
    assert isinstance(again, EcallDeliveryTrigger)
    assert again.serialize() == trigger.serialize()

    ecall_sandbox_connection.inject(endpoint="state", status=401, times=1)
    with pytest.raises(AirflowFailException, match="could not be checked"):
        wait.resume(_event(trigger), lambda: client)


def test_a_callback_event_without_its_wait_is_a_clear_failure() -> None:
    with pytest.raises(AirflowFailException, match="without its wait"):
        wait.resume({"status": "reported"}, lambda: pytest.fail("no query"))


def _reply_wait(sender: str, **extra: Any) -> Any:
    from airflow_provider_ecall.triggers.ecall import EcallReplyTrigger
    from airflow_provider_ecall.triggers.replies import number_digest

    deadline = datetime.now(timezone.utc) + timedelta(hours=1)
    arguments = {"since": None, "deadline": deadline.isoformat(), **extra}
    return EcallReplyTrigger(sender_digests=[number_digest(sender)], words=["ACK"], **arguments)


def _reply(
    message: str,
    sender: str = PHONE,
    to: str = LEASED,
    job_id: str | None = "j-1",
    via: str = TOKEN,
) -> str:
    params = reply_params(address_from=sender, address_to=to, message=message, job_id=job_id)
    return callback_url(f"/callbacks/{via}/reply", params)


def test_a_reply_by_callback_resumes_the_reply_waits_it_matches(
    defer: Callable[[dict[str, Any]], None], receiver: TestClient
) -> None:
    defer({"first": _reply_wait(PHONE), "second": _reply_wait(OTHER)})

    assert receiver.get(_reply("ack, on my way")).status_code == 200

    rows = _rows()
    assert rows["second"] == ("deferred", None)
    state, event = rows["first"]
    assert state == "scheduled"
    assert event is not None
    assert (event["status"], event["message"]) == ("reply", "ack, on my way")
    assert (event["sender"], event["sender_index"]) == ("+41******233", 0)
    assert PHONE not in repr(event)
    sensor = EcallReplySensor(task_id="wait", from_numbers=PHONE, words=["ACK"])
    assert sensor.execute_complete({}, event)["message"] == "ack, on my way"


@pytest.mark.parametrize(
    ("wait", "message", "to"),
    [
        ({}, "back soon", LEASED),  # not the word
        ({"mobile_number": "+41790000099"}, "ACK", LEASED),  # to another leased number
        ({"deadline": "2020-01-01T00:00:00+00:00"}, "ACK", LEASED),  # after the wait ended
    ],
    ids=["word", "leased-number", "deadline"],
)
def test_a_reply_the_wait_does_not_want_leaves_it_waiting(
    defer: Callable[[dict[str, Any]], None],
    receiver: TestClient,
    wait: dict[str, Any],
    message: str,
    to: str,
) -> None:
    defer({"first": _reply_wait(PHONE, **wait), "second": _reply_wait(OTHER)})

    # Nobody took it and no DAG declares the reply asset: 503, so eCall may try again.
    assert receiver.get(_reply(message, to=to)).status_code == 503
    assert {state for state, _ in _rows().values()} == {"deferred"}


def test_a_wait_for_the_answers_to_one_send_takes_no_reply_about_another(
    defer: Callable[[dict[str, Any]], None], receiver: TestClient
) -> None:
    """Both wait for ACK from the same number; ``first`` for the answers to send j-1, ``second``
    to j-2. A callback about j-1 (here batch 2 of it) ends ``first`` only."""
    defer(
        {
            "first": _reply_wait(PHONE, reply_to=["j-1"]),
            "second": _reply_wait(PHONE, reply_to=["j-2"]),
        }
    )

    assert receiver.get(_reply("ACK", job_id="j-1-2")).status_code == 200

    rows = _rows()
    assert rows["first"][0] == "scheduled"
    assert rows["second"] == ("deferred", None)


def test_a_leaked_signed_reply_url_ends_no_wait_for_another_send(
    defer: Callable[[dict[str, Any]], None], receiver: TestClient
) -> None:
    """The issue's forged "ack": whoever holds the URL signed for j-2 answers for j-2 alone,
    and a wait for the answers to j-1 goes on waiting."""
    from airflow_provider_ecall.plugins.signing import CallbackSigner
    from tests.airflow.conftest import SIGNING_KEY

    leaked = CallbackSigner((SIGNING_KEY,)).sign("reply", "j-2", expires=int(time.time()) + 600)
    defer(
        {
            "first": _reply_wait(PHONE, reply_to=["j-1"]),
            "second": _reply_wait(PHONE, reply_to=["j-2"]),
        }
    )

    # The query names no JobID: the signed one counts. Naming j-1 instead is refused (403).
    assert receiver.get(_reply("ACK", job_id="j-1", via=leaked)).status_code == 403
    assert receiver.get(_reply("ACK", job_id=None, via=leaked)).status_code == 200

    rows = _rows()
    assert rows["first"] == ("deferred", None)
    assert rows["second"][0] == "scheduled"


def test_a_reply_wait_names_reply_to_when_it_holds_no_job_id() -> None:
    sensor = EcallReplySensor(task_id="wait", from_numbers=PHONE, reply_to=" ")
    with pytest.raises(AirflowFailException, match="reply_to: no eCall JobID found"):
        sensor._reply_to()


def test_reply_to_takes_a_send_tasks_output_and_old_trigger_rows_still_load() -> None:
    from airflow_provider_ecall.triggers.ecall import EcallReplyTrigger

    sensor = EcallReplySensor(task_id="wait", reply_to={"job_ids": ["j-1", "j-2"]})
    assert sensor._reply_to() == ["j-1", "j-2"]
    assert EcallReplySensor(task_id="any")._reply_to() == []
    # A row written before reply_to existed rebuilds as a wait for answers to any send.
    _, kwargs = _reply_wait(PHONE).serialize()
    del kwargs["reply_to"]
    assert EcallReplyTrigger(**kwargs).reply_to == []
