"""The DAGs ``make e2e`` triggers in its Airflow deployment, one per scenario.

Each scenario sends through its own connection (``ecall_<scenario>``), which points at its
own sandbox, so scenarios run side by side and each sandbox's journal judges one of them.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference, task
from e2e_numbers import BENCH_FAILURES, BENCH_PARALLEL, MAPPED, NUMBERS

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.operators.ecall import EcallSmsOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
QUICK_RETRY = timedelta(seconds=1)


def _dag(dag_id: str, **kwargs: object) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, tags=["e2e"], **kwargs)


def _send(scenario: str, retries: int, **kwargs: object) -> EcallSmsOperator:
    """One SMS to the scenario's number through the scenario's connection."""
    return EcallSmsOperator(
        task_id="send",
        address=NUMBERS[scenario],
        message=f"{scenario}: {{{{ run_id }}}} try {{{{ ti.try_number }}}}",
        ecall_conn_id=f"ecall_{scenario}",
        retries=retries,
        retry_delay=QUICK_RETRY,
        **kwargs,
    )


def _failed_at() -> str:
    """The moment of failure, in the exception text (the latency figures start here)."""
    return f"failed_at={time.time():.3f}"


# The answer to the accepted send is lost; the retry must find the job through Api/State.
with _dag("e2e_lost_answer"):
    _send("lost_answer", retries=2)

# The worker dies (SIGKILL) while the send waits for its answer; the scheduler reschedules.
with _dag("e2e_worker_killed"):
    _send("worker_killed", retries=2)

# Dies with the same worker, no retries left: the scheduler fails it for the missing heartbeat
# and its failure callback runs in the DAG processor, as no worker is left to run it.
with _dag("e2e_zombie_alert"):

    @task(
        retries=0,
        on_failure_callback=EcallSmsNotifier(
            address=NUMBERS["zombie_alert"],
            message="{{ ti.task_id }} of {{ dag.dag_id }} lost its worker",
            ecall_conn_id="ecall_zombie_alert",
        ),
    )
    def long_load() -> None:
        time.sleep(300)

    long_load()

# eCall answers 500 for a while; the task's retries deliver once it recovers.
with _dag("e2e_error_window"):
    _send("error_window", retries=4)

# eCall answers 500 throughout: the task exhausts its retries, its alert goes out once.
with _dag("e2e_exhausted"):
    _send(
        "exhausted",
        retries=2,
        on_failure_callback=EcallSmsNotifier(
            address=NUMBERS["oncall"],
            message="{{ ti.task_id }} of {{ dag.dag_id }} failed for good, try {{ ti.try_number }}",
            ecall_conn_id="ecall_oncall",
        ),
    )

# A DAG-level failure callback: runs in the DAG processor.
with _dag(
    "e2e_dag_failure",
    on_failure_callback=EcallSmsNotifier(
        address=NUMBERS["team_lead"], ecall_conn_id="ecall_team_lead"
    ),
):

    @task(retries=0)
    def breaks() -> None:
        raise RuntimeError("the load broke on purpose")

    breaks()

# A deadline alert: the awaitable notifier runs in the triggerer.
with _dag(
    "e2e_deadline",
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(seconds=5),
        callback=AsyncCallback(
            EcallSmsNotifier,
            kwargs={"address": NUMBERS["deadline"], "ecall_conn_id": "ecall_deadline"},
        ),
    ),
):

    @task
    def slow() -> None:
        time.sleep(30)

    slow()

# A finished task that is cleared runs again and sends again (a deliberate re-run).
with _dag("e2e_rerun"):
    _send("rerun", retries=0)

# A mapped send: one message per map index.
with _dag("e2e_mapped"):
    EcallSmsOperator.partial(
        task_id="send",
        message="mapped {{ ti.map_index }}",
        ecall_conn_id="ecall_mapped",
    ).expand(address=MAPPED)

# Latency: BENCH_FAILURES failing map indexes, each with a task failure callback; two at a
# time, so the figure is the alert path's and not 20 task processes queueing for 2 cores.
with _dag("e2e_bench_task"):

    @task(
        retries=0,
        max_active_tis_per_dag=BENCH_PARALLEL,
        on_failure_callback=EcallSmsNotifier(
            address=NUMBERS["bench_task"],
            message="{{ ti.map_index }} {{ exception }}",
            ecall_conn_id="ecall_bench_task",
        ),
    )
    def fails(index: int) -> None:
        raise RuntimeError(_failed_at())

    fails.expand(index=list(range(BENCH_FAILURES)))

# Latency: one failing task per run, the DAG-level callback alerts; triggered many times.
with _dag(
    "e2e_bench_dag",
    max_active_runs=BENCH_PARALLEL,
    on_failure_callback=EcallSmsNotifier(
        address=NUMBERS["bench_dag"],
        message="{{ dag_run.run_id }}",
        ecall_conn_id="ecall_bench_dag",
    ),
):

    @task(retries=0)
    def fails_once() -> None:
        raise RuntimeError(_failed_at())

    fails_once()
