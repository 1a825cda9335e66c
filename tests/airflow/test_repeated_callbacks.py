"""Airflow can run one try's failure callback twice; the alert goes out once.

Found by ``make e2e``: a task whose Celery worker was SIGKILLed, with no retries left, is
failed by the scheduler's heartbeat check and again when the executor reports it failed, and
the DAG processor runs the task's ``on_failure_callback`` for both requests, 1.5 s apart
(the same family as apache/airflow#42553). Both alerts name the same try, so they share a
JobID; the second finds the first through ``Api/State`` and sends nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

from airflow.sdk import DAG

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.contexts import failure_context

NUMBER = "+41791112233"


def _another_try(context: dict[str, object]) -> dict[str, object]:
    ti = SimpleNamespace(**{**vars(context["ti"]), "try_number": context["ti"].try_number + 1})
    return {**context, "ti": ti, "task_instance": ti}


def test_a_failure_callback_run_twice_for_one_try_sends_one_alert(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    notifier = EcallSmsNotifier(address=NUMBER, message="{{ ti.task_id }} lost its worker")
    context = failure_context(DAG("nightly_load", schedule=None), 0)

    notifier(context)
    # The second request carries its own exception text; the try is the same.
    notifier({**context, "exception": RuntimeError("executor reported the task failed")})

    assert [m.message for m in ecall_sandbox_connection.messages] == ["load_0 lost its worker"]
    asked = [r for r in ecall_sandbox_connection.requests if r.endpoint == "state"]
    assert len(asked) == 2  # each callback asked before its send


def test_the_next_try_failing_alerts_again(ecall_sandbox_connection: EcallSandbox) -> None:
    notifier = EcallSmsNotifier(address=NUMBER, message="{{ ti.task_id }} try {{ ti.try_number }}")
    context = failure_context(DAG("nightly_load", schedule=None), 0)

    notifier(context)
    notifier(_another_try(context))

    assert [m.message for m in ecall_sandbox_connection.messages] == [
        "load_0 try 1",
        "load_0 try 2",
    ]
