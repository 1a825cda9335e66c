"""``EcallReplySensor`` outside a DAG run: what it defers with, and how it ends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.sensors.ecall import EcallReplySensor
from airflow_provider_ecall.triggers.replies import number_digest

SENDER = "+41791112233"
STARTED = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


def _context() -> Any:
    return {"dag_run": SimpleNamespace(start_date=STARTED)}


def test_it_defers_with_digests_the_words_and_the_run_start() -> None:
    sensor = EcallReplySensor(
        task_id="wait", from_numbers=f"{SENDER}; 0041 79 555 66 77", words=["ack", "ok"], timeout=90
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(_context())
    trigger = deferred.value.trigger
    _, kwargs = trigger.serialize()
    assert kwargs["sender_digests"] == [number_digest(SENDER), number_digest("+41795556677")]
    assert kwargs["words"] == ["ACK", "OK"]
    assert kwargs["since"] == STARTED.isoformat()
    assert SENDER not in repr(kwargs)
    assert deferred.value.timeout == timedelta(seconds=90) + timedelta(minutes=5)


def test_a_bad_number_fails_at_once_naming_the_field() -> None:
    sensor = EcallReplySensor(task_id="wait", from_numbers="079 111 22 33")
    with pytest.raises(AirflowFailException, match="invalid from_numbers"):
        sensor.execute(_context())


@pytest.mark.parametrize(
    ("options", "field"), [({"timeout": 0}, "timeout"), ({"poll_interval": 0.2}, "poll_interval")]
)
def test_bad_waits_fail_at_parse_naming_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(EcallValidationError) as caught:
        EcallReplySensor(task_id="wait", from_numbers=SENDER, **options)
    assert caught.value.field == field


def test_a_reply_returns_a_masked_summary_and_a_timeout_fails_or_skips() -> None:
    sensor = EcallReplySensor(task_id="wait", from_numbers=SENDER)
    event = {
        "status": "reply",
        "message_id": "m1",
        "sender": "+41******233",
        "sender_index": 0,
        "message": "ACK",
        "timestamp": STARTED.isoformat(),
    }
    assert sensor.execute_complete(_context(), event)["sender"] == "+41******233"
    with pytest.raises(AirflowFailException, match="no matching eCall reply within 0:10:00"):
        sensor.execute_complete(_context(), {"status": "timeout"})
    sensor.soft_fail = True
    with pytest.raises(AirflowSkipException):
        sensor.execute_complete(_context(), {"status": "timeout"})
