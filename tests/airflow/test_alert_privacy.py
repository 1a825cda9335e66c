"""Resolved numbers are masked in what Airflow stores and shows: rendered template fields
(read back from the metadata database) and task logs (through the masker that redacts
them); ``mask_recipients=False`` keeps them. Each test uses numbers of its own: the secret
masker is process-wide."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG, airflow_at_least
from airflow_provider_ecall.utils.masking import mask_recipients, personal
from tests._airflow import redact

pytestmark = pytest.mark.compat(feature="Rendered fields and logs: numbers masked")


def rendered_fields(dag_id: str) -> dict[str, dict[str, object]]:
    """``{task_id[map_index]: rendered fields}`` as Airflow stored them."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    model = RenderedTaskInstanceFields
    with create_session() as session:
        if hasattr(model, "dag_id"):
            query = session.query(model.task_id, model.map_index, model.rendered_fields)
            rows = query.filter(model.dag_id == dag_id).all()
        else:  # Airflow 3.4: rows keyed by the task instance's id (table rtif_v2)
            from airflow.models.taskinstance import TaskInstance as TI

            query = session.query(TI.task_id, TI.map_index, model.rendered_fields)
            query = query.join(model, model.task_instance_id == TI.id)
            rows = query.filter(TI.dag_id == dag_id).all()
        return {
            task_id + ("" if map_index < 0 else f"[{map_index}]"): dict(fields)
            for task_id, map_index, fields in rows
        }


def test_numbers_are_absent_from_the_rendered_fields_and_the_logs(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    dag = load_dag(
        """
        with DAG(
            "private",
            schedule=None,
            start_date=START,
            params={
                "oncall": "+41791110001",
                "team": ["+41791110002", "+41791110003"],
                "hook": "https://airflow.example/ecall/callbacks/t0ken-of-the-account/delivery",
            },
        ) as dag:
            direct = EcallSmsOperator(
                task_id="direct",
                address="{{ params.oncall }}",
                notification_address="{{ params.oncall }}",
                message="hello",
            )
            mapped = EcallSmsOperator.partial(task_id="mapped", message="team").expand(
                address=["{{ params.team[0] }}", "{{ params.team[1] }}"]
            )
            kept = EcallSmsOperator(
                task_id="kept", address="+41791110009", message="shown", mask_recipients=False
            )
            # Every recipient field of the kind's spec: where replies and reports go too.
            replies = EcallSmsOperator(
                task_id="replies",
                address="Oncall",
                answer="+41791110004",
                notification_address=["{{ params.hook }}"],
                message="reply here",
            )

            [direct, mapped, kept, replies]
        """
    )
    assert dag.test().state == "success"
    assert len(ecall_sandbox_connection.messages) == 5  # the real numbers were sent
    stored = rendered_fields("private")
    assert stored["direct"]["address"] == "***"
    assert stored["direct"]["notification_address"] == "***"
    assert stored["mapped[0]"]["address"] == "***"
    assert stored["mapped[1]"]["address"] == "***"
    assert stored["kept"]["address"] == "+41791110009"  # the opt-out
    assert stored["replies"]["address"] == "Oncall"  # an address-book name is no secret
    assert stored["replies"]["answer"] == "***"
    assert stored["replies"]["notification_address"] == ["***"]
    every = repr(stored)
    for secret in ("+41791110001", "+41791110002", "+41791110003", "+41791110004", "t0ken"):
        assert secret not in every
    # Task logs: a worker's log handler redacts every line with the same masker.
    assert redact("on call tonight: +41791110001") == "on call tonight: ***"
    assert redact("+41791110009") == "+41791110009"


@pytest.mark.skipif(not airflow_at_least("3.0"), reason="EcallReplySensor needs Airflow 3.0")
def test_a_reply_waits_senders_are_masked_in_its_rendered_fields(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    ecall_sandbox_connection.add_inbound(
        address_from="+41791110021", address_to="+41791110029", message="ack"
    )
    dag = load_dag(
        """
        from airflow_provider_ecall.sensors.ecall import EcallReplySensor

        with DAG("private_wait", schedule=None, start_date=START,
                 params={"oncall": "+41791110021"}) as dag:
            EcallReplySensor(
                task_id="wait",
                from_numbers=["{{ params.oncall }}", "+41791110022"],
                mobile_number="+41791110029",
                since="2020-01-01T00:00:00+00:00",
                poll_interval=1,
                timeout=60,
            )
        """
    )
    assert dag.test().state == "success"  # the reply from the rendered number matched
    stored = rendered_fields("private_wait")["wait"]
    assert stored["from_numbers"] == ["***", "***"]
    assert stored["mobile_number"] == "***"
    for number in ("+41791110021", "+41791110022", "+41791110029"):
        assert number not in repr(stored)


def test_notifier_numbers_are_registered_with_the_masker(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    dag = load_dag(
        """
        with DAG("private_alert", schedule=None, start_date=START) as dag:
            @task(on_failure_callback=EcallSmsNotifier(address="+41791110011"))
            def broken():
                raise RuntimeError("paging +41791110011")

            broken()
        """
    )
    dag.test()
    assert ecall_sandbox_connection.messages[0].addresses == ("+41791110011",)
    assert redact("paged +41791110011") == "paged ***"


def test_only_numbers_and_email_addresses_are_registered() -> None:
    assert personal("+41 79 111 00 21")
    assert personal("0041791110021")
    assert personal("oncall@example.com")
    assert not personal("Oncall")
    assert not personal("Team-A")
    assert mask_recipients("+41791110021; Oncall", ["ops@example.com"], None) == 2
