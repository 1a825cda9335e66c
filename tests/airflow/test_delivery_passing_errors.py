"""One behaviour on a status query that fails in passing, in every mode a task waits for
delivery: the delivery sensor poking, rescheduled and deferred, and a send operator's
``wait_for_delivery`` in the worker and deferred. Each run meets two 503 answers to its
first ``Api/State`` queries; each must wait on, succeed once the jobs are delivered, and
have sent its SMS once. (Before the delivery waits had one owner, a 5xx ended a poking or
rescheduled sensor but not the operator's in-worker wait.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from tests.airflow.conftest import ti_states

PHONE = "+41791112233"
FAILURES = 2

SENSOR = """
        from airflow_provider_ecall.sensors.ecall import EcallDeliverySensor

        with DAG("{name}", schedule=None, start_date=START) as dag:
            send = EcallSmsOperator(task_id="send", address="{phone}", message="Report ready")
            wait = EcallDeliverySensor(
                task_id="wait", job_id=send.output, poke_interval=0.1, timeout=60, retries=0,
                {options}
            )
"""
OPERATOR = """
        with DAG("{name}", schedule=None, start_date=START) as dag:
            wait = EcallSmsOperator(
                task_id="wait", address="{phone}", message="Report ready", retries=0,
                wait_for_delivery=True, delivery_poll_interval=0.1, delivery_timeout=60,
                {options}
            )
"""
KEEP = """
            @task
            def keep(outcome):
                import json, pathlib
                pathlib.Path({out!r}).write_text(json.dumps(outcome))

            keep(wait.output)
"""

MODES = {
    "sensor-poke": (SENSOR, "deferrable=False, mode='poke'"),
    "sensor-reschedule": (SENSOR, "deferrable=False, mode='reschedule'"),
    "sensor-deferred": (SENSOR, "deferrable=True"),
    "operator-in-worker": (OPERATOR, "deferrable=False"),
    "operator-deferred": (OPERATOR, "deferrable=True"),
}


@pytest.mark.ecall_delivery(delay=0)
@pytest.mark.parametrize("mode", list(MODES))
def test_a_passing_query_failure_does_not_end_the_wait(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    tmp_path: Path,
    mode: str,
) -> None:
    template, options = MODES[mode]
    out = tmp_path / "outcome.json"
    name = f"passing_errors_{mode.replace('-', '_')}"
    body = template.format(name=name, phone=PHONE, options=options) + KEEP.format(out=str(out))
    dag = load_dag(body)
    ecall_sandbox_connection.inject(endpoint="state", status=503, times=FAILURES)

    run = dag.test()

    assert run.state == "success", ti_states(run)
    outcome = json.loads(out.read_text())
    delivery = outcome.get("delivery", outcome)
    assert delivery["status"] == "delivered"
    states = [r.status for r in ecall_sandbox_connection.requests if r.endpoint == "state"]
    assert states[:FAILURES] == [503] * FAILURES  # the wait met the failures ...
    assert 200 in states[FAILURES:]  # ... and asked again
    assert len(ecall_sandbox_connection.messages) == 1  # nothing was sent twice
