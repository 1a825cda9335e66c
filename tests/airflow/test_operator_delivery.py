"""``wait_for_delivery`` on the send operators, in real DAG runs (``dag.test()`` runs the
trigger in-process after a real deferral) against the sandbox's progressing statuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.operators.ecall import EcallSmsOperator
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import AIRFLOW_VERSION, DAG
from tests.airflow.conftest import ti_states

pytestmark = pytest.mark.compat(
    feature="Delivery: wait_for_delivery, deferred, in the worker, mapped"
)

PHONE, OTHER, THIRD = "+41791112233", "+41791112244", "+41791112255"


def _keep(out: Path, upstream: str) -> str:
    return f"""
            @task
            def keep(outcome):
                import json, pathlib
                value = outcome if isinstance(outcome, dict) else list(outcome)  # mapped
                pathlib.Path({str(out)!r}).write_text(json.dumps(value))

            keep({upstream}.output)
    """


@pytest.mark.ecall_delivery(delay=0.3)
@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "in-worker"])
def test_send_then_wait_returns_the_send_result_with_its_delivery(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    tmp_path: Path,
    deferrable: bool,
    capfd: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "sent.json"
    dag = load_dag(
        f"""
        with DAG("wait_sms_{deferrable}", schedule=None, start_date=START) as dag:
            send = EcallSmsOperator(
                task_id="send", address="{PHONE};{OTHER}", message="Report ready",
                wait_for_delivery=True, delivery_poll_interval=0.1, deferrable={deferrable},
            )
        """
        + _keep(out, "send")
    )

    run = dag.test()

    assert run.state == "success", ti_states(run)
    if AIRFLOW_VERSION >= (3, 0, 0):  # 2.11 logs it, not on stdout
        assert ("Pausing task as DEFERRED" in capfd.readouterr().out) is deferrable
    sent = json.loads(out.read_text())
    assert sent["recipient_count"] == 2
    assert sent["delivery"]["status"] == "delivered"
    assert [r["recipient"] for r in sent["delivery"]["recipients"]] == [
        "+41******233",
        "+41******244",
    ]
    assert len(ecall_sandbox_connection.messages) == 1  # resuming did not send again


@pytest.mark.ecall_delivery(delay=0.2, failing=[OTHER])
@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "in-worker"])
def test_a_failed_delivery_fails_the_task_once_and_sends_nothing_more(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    deferrable: bool,
) -> None:
    dag = load_dag(
        f"""
        with DAG("wait_fail_{deferrable}", schedule=None, start_date=START) as dag:
            EcallSmsOperator(
                task_id="send", address="{PHONE};{OTHER}", message="Report ready", retries=2,
                wait_for_delivery=True, delivery_poll_interval=0.1, deferrable={deferrable},
            )
        """
    )

    run = dag.test()

    assert ti_states(run)["send"] == ("failed", 1)  # no retry: retrying cannot deliver it
    assert len(ecall_sandbox_connection.messages) == 1


@pytest.mark.ecall_delivery(delay=0.3)
def test_mapped_sends_each_wait_for_their_own_delivery(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "mapped.json"
    dag = load_dag(
        f"""
        with DAG("wait_mapped", schedule=None, start_date=START) as dag:
            send = EcallSmsOperator.partial(
                task_id="send", message="Report ready", wait_for_delivery=True,
                delivery_poll_interval=0.1, deferrable=True,
            ).expand(address=["{PHONE}", "{OTHER}", "{THIRD}"])
        """
        + _keep(out, "send")
    )

    run = dag.test()

    assert run.state == "success", ti_states(run)
    sent = json.loads(out.read_text())
    assert [s["delivery"]["status"] for s in sent] == ["delivered"] * 3
    assert len({s["job_id"] for s in sent}) == 3
    assert [d for s in sent for d in s["delivery"]["job_ids"]] == [s["job_id"] for s in sent]
    assert len(ecall_sandbox_connection.messages) == 3


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"delivery_timeout": 0}, "delivery_timeout must be"),
        ({"delivery_poll_interval": -1}, "delivery_poll_interval must be"),
    ],
)
def test_bad_wait_options_fail_at_parse(options: dict[str, object], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        EcallSmsOperator(task_id="x", address=PHONE, message="m", **options)  # type: ignore[arg-type]


def test_deferrable_defaults_from_the_operators_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert EcallSmsOperator(task_id="a", address=PHONE, message="m").deferrable is True
    monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE")
    assert EcallSmsOperator(task_id="b", address=PHONE, message="m").deferrable is False
