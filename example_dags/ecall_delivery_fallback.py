"""
### A report SMS that must arrive — or the report goes out by fax

`report_sms` texts the day's figures and, with `wait_for_delivery=True`, does not finish
when eCall *accepts* the SMS but when eCall reports it *delivered*. It waits in the
triggerer (`deferrable=True`: no worker slot is held; many such waits share one status
poller). When the phone does not get it — eCall reports the delivery failed, or nothing is
final within `delivery_timeout` — the task fails without retrying (a retry could only send
the SMS twice), and `fax_report` (trigger rule `all_failed`) sends the same report by fax.
When the SMS arrives, the fax task is skipped.

The task's XCom value is the send result plus `delivery`: one entry per recipient with its
outcome and eCall's status, the number masked.

**Recipients**: the environment variables `ECALL_REPORT_RECIPIENTS` (SMS, default
`+41790000001`) and `ECALL_FAX_RECIPIENTS` (fax, default `+41440000001`).
`ECALL_DELIVERY_POLL_SECONDS` sets how often eCall is asked (default 60).

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_ecall.operators.ecall import EcallFaxOperator, EcallSmsOperator

SMS_RECIPIENTS = os.environ.get("ECALL_REPORT_RECIPIENTS", "+41790000001")
FAX_RECIPIENTS = os.environ.get("ECALL_FAX_RECIPIENTS", "+41440000001")
POLL_SECONDS = float(os.environ.get("ECALL_DELIVERY_POLL_SECONDS", "60"))
REPORT = "Sales {{ ds }}: {{ ti.xcom_pull(task_ids='figures')['orders'] }} orders"

with DAG(
    dag_id="ecall_delivery_fallback",
    description="Text the daily figures; fax them when the SMS is not delivered",
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Zurich"),
    catchup=False,
    tags=["ecall", "example", "sms", "fax", "delivery"],
    doc_md=__doc__,
) as dag:

    @task
    def figures() -> dict[str, int]:
        """The day's figures (simulated)."""
        return {"orders": 1284}

    # [START howto_operator_ecall_sms_wait_for_delivery]
    report_sms = EcallSmsOperator(
        task_id="report_sms",
        address=SMS_RECIPIENTS,
        message=REPORT,
        wait_for_delivery=True,
        deferrable=True,
        delivery_timeout=timedelta(minutes=30),
        delivery_poll_interval=POLL_SECONDS,
    )
    # [END howto_operator_ecall_sms_wait_for_delivery]

    # [START howto_operator_ecall_fax_fallback]
    fax_report = EcallFaxOperator(
        task_id="fax_report",
        address=FAX_RECIPIENTS,
        message=REPORT + "\n\n(Sent by fax: the SMS of this report was not delivered.)",
        subject="Daily sales report",
        trigger_rule="all_failed",
    )
    # [END howto_operator_ecall_fax_fallback]

    figures() >> report_sms >> fax_report
