"""A DAG-level alert says what broke: how many tasks failed and the first few ids."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_ecall.notifications._dagrun import describe_failed
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG

pytestmark = pytest.mark.compat(feature="Alerts: DAG alert names the failed tasks")

NUMBER = "+41791112299"


def test_a_dag_alert_names_the_failed_tasks(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG(
            "five_failures",
            schedule=None,
            start_date=START,
            on_failure_callback=[
                EcallSmsNotifier(address="{NUMBER}"),
                EcallVoiceNotifier(address="{NUMBER}"),
            ],
        ) as dag:
            @task
            def fine():
                return 1

            fine()
            for n in (4, 0, 3, 1, 2):
                @task(task_id=f"load_{{n}}")
                def load():
                    raise RuntimeError("down")

                load()
        """
    )
    run = dag.test()
    sms, voice = (m.message for m in ecall_sandbox_connection.messages)
    assert sms.startswith(
        "Airflow: DAG five_failures: task_failure, 5 tasks failed: load_0, load_1, load_2 "
        "(+2 more)\n"
    )
    assert f"run {run.run_id}" in sms
    assert "5 tasks failed: load_0, load_1, load_2 (+2 more)" in voice


def test_the_failed_task_summary() -> None:
    assert describe_failed(("a",)) == "1 task failed: a"
    assert describe_failed(("a", "b", "c")) == "3 tasks failed: a, b, c"
    assert describe_failed(tuple("abcdefg")) == "7 tasks failed: a, b, c (+4 more)"
