"""EcallDeliverySensor in ``mode="reschedule"`` in real DAG runs (``dag.test()``) against the
sandbox: each poke is its own run of the task, pending pokes end the run UP_FOR_RESCHEDULE
(a ``task_reschedule`` row, no try used), the first final answer ends the wait.

``dag.test()`` (and ``airflow dags test``, which calls it) in Airflow 3.3 runs a reschedule-mode
sensor through the real task runner: the sensor raises ``AirflowRescheduleException``, the
runner sends ``RescheduleTask``, the in-process execution API writes the ``task_reschedule``
row and sets UP_FOR_RESCHEDULE, and ``dag.test()``'s loop schedules the task again with the
same try number once ``ReadyToRescheduleDep`` passes (it looks once a second meanwhile, so a
reschedule costs about a second here whatever the poke interval).

The recipients stay pending (the sandbox's ``never``) until the sandbox has answered two status
queries; then their deliveries resolve. How many pokes that takes depends on the machine, so
the tests check what must hold for any number: one reschedule per poke but the last.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from tests.airflow.conftest import ti_states

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

PHONE, OTHER = "+41791112233", "+41791112244"
PENDING_ROUNDS = 2


def _dag(name: str, out: Path, mode: str) -> str:
    return f"""
        from airflow_provider_ecall.sensors.ecall import EcallDeliverySensor

        with DAG("{name}", schedule=None, start_date=START) as dag:
            send = EcallSmsOperator(
                task_id="send", address="{PHONE};{OTHER}", message="Report ready"
            )
            check = EcallDeliverySensor(
                task_id="check",
                job_id=send.output,
                deferrable=False,
                mode="{mode}",
                poke_interval=0.1,
                timeout=120,
                retries=2,
            )

            @task
            def keep(outcome):
                import json, pathlib
                pathlib.Path({str(out)!r}).write_text(json.dumps(outcome))

            keep(check.output)
        """


def _status_queries(sandbox: EcallSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == "state")


def release_after(sandbox: EcallSandbox, rounds: int, limit: float = 120.0) -> threading.Thread:
    """Let the deliveries ``never`` holds back resolve once the sandbox has answered
    ``rounds`` status queries (answers are worked out before they are logged, so those
    ``rounds`` said pending). ``limit`` only bounds a hang."""

    def release() -> None:
        give_up = time.monotonic() + limit
        while _status_queries(sandbox) < rounds and time.monotonic() < give_up:
            time.sleep(0.01)
        sandbox.configure_delivery(never=[])

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def reschedules(run: DagRun, task_id: str) -> int:
    """The ``task_reschedule`` rows of one task instance of a DAG run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        ti_id = session.scalar(
            select(TaskInstance.id).where(
                TaskInstance.dag_id == run.dag_id,
                TaskInstance.run_id == run.run_id,
                TaskInstance.task_id == task_id,
            )
        )
        count = session.scalar(
            select(func.count()).select_from(TaskReschedule).where(TaskReschedule.ti_id == ti_id)
        )
        return int(count or 0)


@pytest.mark.ecall_delivery(delay=0, never=[PHONE, OTHER])
@pytest.mark.parametrize("mode", ["reschedule", "poke"])
def test_reschedules_while_pending_and_succeeds_once_delivered(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    tmp_path: Path,
    mode: str,
) -> None:
    sandbox = ecall_sandbox_connection
    out = tmp_path / "outcome.json"
    dag = load_dag(_dag(f"sensor_{mode}_ok", out, mode))
    releaser = release_after(sandbox, PENDING_ROUNDS)

    run = dag.test()
    releaser.join(5)

    states = ti_states(run)
    assert run.state == "success", states
    assert states["check"] == ("success", 1)  # waiting used no try
    pokes = _status_queries(sandbox)
    assert pokes > PENDING_ROUNDS  # it waited through the pending answers
    # Reschedule mode: every pending poke ended that run of the task (a reschedule row);
    # poke mode: one run of the task poked them all.
    assert reschedules(run, "check") == (pokes - 1 if mode == "reschedule" else 0)
    outcome = json.loads(out.read_text())
    assert outcome["status"] == "delivered"
    assert [(r["recipient"], r["status_code"]) for r in outcome["recipients"]] == [
        ("+41******233", 8),
        ("+41******244", 8),
    ]
    assert [m.kind for m in sandbox.messages] == ["sms"]  # sent once, however often it woke


@pytest.mark.ecall_delivery(delay=0, never=[PHONE, OTHER], failing=[OTHER])
def test_a_failed_recipient_fails_the_rescheduled_sensor_naming_it_masked(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sandbox = ecall_sandbox_connection
    dag = load_dag(_dag("sensor_reschedule_failed", tmp_path / "x.json", "reschedule"))
    releaser = release_after(sandbox, PENDING_ROUNDS)

    run = dag.test()
    releaser.join(5)

    states = ti_states(run)
    assert states["check"] == ("failed", 1), states  # AirflowFailException: no retry
    assert states["keep"][0] == "upstream_failed"
    pokes = _status_queries(sandbox)
    assert pokes > PENDING_ROUNDS
    assert reschedules(run, "check") == pokes - 1
    output = capfd.readouterr().out
    assert "eCall delivery failed for 1 recipient(s)" in output
    assert "to +41******244: failed (2 Error)" in output
    assert OTHER not in output
    assert PHONE not in output
