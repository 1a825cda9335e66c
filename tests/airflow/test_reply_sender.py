"""A reply wait after an SMS nobody can answer warns loudly, naming the SMS task's
``callback``: an alphanumeric sender (or none) cannot be replied to."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import connection_json
from airflow_provider_ecall.utils.compat import AIRFLOW_VERSION, DAG

pytestmark = pytest.mark.compat(feature="Replies: a wait after an unanswerable SMS warns")

PAGE_THEN_WAIT = """
from airflow_provider_ecall.sensors.ecall import EcallReplySensor

with DAG("reply_path", schedule=None, start_date=START) as dag:
    page = EcallSmsOperator(task_id="page", address="+41790000011", message="Reply ACK", {sms})
    call = EcallVoiceOperator(task_id="call", address="+41790000011", message="Reply A C K")
    wait = EcallReplySensor(task_id="wait", from_numbers="+41790000011", timeout=60)
    page >> call >> wait
"""


@pytest.mark.skipif(AIRFLOW_VERSION < (3, 0, 0), reason="EcallReplySensor needs Airflow 3.0")
@pytest.mark.parametrize(
    ("sms", "default_callback", "warned"),
    [
        ('callback="OpsTeam"', None, ["page"]),
        ("", "OpsTeam", ["page"]),  # from the connection's default_callback
        ("", None, ["page"]),  # no sender id at all
        ('callback="{{ params.sender }}"', None, ["page"]),  # rendered: "OpsTeam"
        ('callback="+41790000099"', "OpsTeam", []),
        ("", "+41790000099", []),
        ('callback="OpsTeam", answer="https://airflow.example.com/ecall/reply"', None, []),
    ],
)
def test_a_wait_after_an_unanswerable_sms_warns_naming_callback(
    load_dag: Callable[..., DAG],
    ecall_sandbox: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sms: str,
    default_callback: str | None,
    warned: list[str],
) -> None:
    connection = json.loads(connection_json(ecall_sandbox))
    if default_callback:
        connection["extra"] = {"default_callback": default_callback}
    monkeypatch.setenv("AIRFLOW_CONN_ECALL_DEFAULT", json.dumps(connection))
    dag = load_dag(PAGE_THEN_WAIT.replace("{sms}", sms))
    wait = dag.get_task("wait")
    with caplog.at_level(logging.WARNING, logger="airflow_provider_ecall"):
        found = wait.warn_unanswerable({"params": {"sender": "OpsTeam"}})  # type: ignore[attr-defined]
    assert found == warned
    lines = [r.getMessage() for r in caplog.records if "NOBODY CAN ANSWER" in r.getMessage()]
    assert len(lines) == len(warned)
    for line in lines:
        assert "Give page callback=" in line
    assert ecall_sandbox.messages == []  # checking sends nothing


ESCALATION = """
from airflow_provider_ecall.operators.escalation import ack_escalation

with DAG("escalation", schedule=None, start_date=START) as dag:
    @task(on_failure_callback=EcallSmsNotifier(address="+41790000011", {notifier}))
    def critical():
        raise RuntimeError("broken")

    ack_escalation(
        after=critical(), page={page}, primary="+41790000011", second="+41790000012",
        callback="{callback}", incident="critical failed",
    )
"""


@pytest.mark.skipif(AIRFLOW_VERSION < (3, 0, 0), reason="EcallReplySensor needs Airflow 3.0")
@pytest.mark.parametrize(
    ("callback", "notifier"),
    [("OpsTeam", 'callback="+41790000099"'), ("+41790000099", 'callback="OpsTeam"'), (" ", "")],
)
def test_an_escalation_from_an_unanswerable_sender_is_refused_at_parse(
    load_dag: Callable[..., DAG], callback: str, notifier: str
) -> None:
    body = ESCALATION.format(notifier=notifier, page=True, callback=callback)
    with pytest.raises(ValueError, match=r"^callback: .*cannot be answered"):
        load_dag(body)


@pytest.mark.skipif(AIRFLOW_VERSION < (3, 0, 0), reason="EcallReplySensor needs Airflow 3.0")
@pytest.mark.parametrize("page", [True, False])
def test_an_escalation_starts_when_its_task_fails_and_reads_its_reply_number(
    load_dag: Callable[..., DAG], page: bool
) -> None:
    notifier = 'callback="+41790000099"'
    dag = load_dag(ESCALATION.format(notifier=notifier, page=page, callback="+41790000099"))
    chain = ["wait_for_ack", "call_primary", "wait_after_call", "page_second", "call_second"]
    chain = ["page_primary", *chain] if page else chain
    first = dag.get_task(chain[0])
    assert first.upstream_task_ids == {"critical"}
    assert str(first.trigger_rule) in {"one_failed", "TriggerRule.ONE_FAILED"}
    for earlier, later in itertools.pairwise(chain):
        assert dag.get_task(later).upstream_task_ids == {earlier}
    assert dag.get_task("wait_for_ack").mobile_number == "+41790000099"  # type: ignore[attr-defined]
    assert str(dag.get_task("call_primary").trigger_rule).endswith(("all_failed", "ALL_FAILED"))
