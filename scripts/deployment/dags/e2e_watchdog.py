"""The DAGs of the watchdog scenarios (issue 17): a task whose notifier pages (the sweeper
must leave it alone), one whose notifier meets an eCall outage, and one without any
callback. The watchdog's sweeper is routed to ``e2e_wd_*`` and sends through the same eCall
account (``ecall_watchdog``)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task
from e2e_numbers import NUMBERS

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier

START = pendulum.datetime(2026, 1, 1, tz="UTC")

for dag_id in ("e2e_wd_paged", "e2e_wd_outage"):
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, tags=["e2e"]):

        @task(
            on_failure_callback=EcallSmsNotifier(
                address=NUMBERS["watchdog_team"], ecall_conn_id="ecall_watchdog"
            )
        )
        def load() -> None:
            raise RuntimeError("disk full")

        load()

with DAG("e2e_wd_bare", schedule=None, start_date=START, catchup=False, tags=["e2e"]):

    @task
    def export() -> None:
        raise RuntimeError("no callback will tell anyone")

    export()
