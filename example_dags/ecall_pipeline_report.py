"""
### Nightly pipeline report by SMS

Two tasks load and check a (simulated) batch of orders and push their figures to XCom;
`send_report` is an `EcallSmsOperator` whose message template,
[`templates/pipeline_report.j2`](templates/pipeline_report.j2), pulls those figures from
XCom when the task runs.

**Recipients**: the Airflow Variable `ecall_report_recipients` (numbers separated by `;`)
when it exists, else the `recipients` param, whose default comes from the environment
variable `ECALL_REPORT_RECIPIENTS` or the placeholder `+41790000001`.

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os
import time

import pendulum

try:
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

from airflow_provider_ecall.operators.ecall import EcallSmsOperator

REPORT_RECIPIENTS = os.environ.get("ECALL_REPORT_RECIPIENTS", "+41790000001")

with DAG(
    dag_id="ecall_pipeline_report",
    description="Load orders, check them, and text the figures to the data team",
    schedule="30 6 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Zurich"),
    catchup=False,
    tags=["ecall", "example", "sms"],
    doc_md=__doc__,
    params={
        "recipients": Param(
            REPORT_RECIPIENTS,
            type="string",
            description="Numbers separated by ';' (the Variable ecall_report_recipients wins)",
        ),
    },
) as dag:

    @task
    def load_orders() -> dict[str, float]:
        """Load the night's orders (simulated) and report how many rows and how long."""
        started = time.monotonic()
        rows = [{"order_id": n, "amount": round(n * 1.37, 2)} for n in range(1, 4813)]
        return {
            "rows": len(rows),
            "amount": round(sum(row["amount"] for row in rows), 2),
            "seconds": round(time.monotonic() - started, 3),
        }

    @task
    def check_quality(loaded: dict[str, float]) -> dict[str, float]:
        """Count rejected rows (simulated: every 400th) and the share that passed."""
        rejected = int(loaded["rows"]) // 400
        return {"rejected": rejected, "passed_pct": round(100 * (1 - rejected / loaded["rows"]), 1)}

    # [START howto_operator_ecall_sms_template_file]
    send_report = EcallSmsOperator(
        task_id="send_report",
        address="{{ var.value.get('ecall_report_recipients', params.recipients) }}",
        # A template file next to this DAG; it reads the figures from XCom.
        message="templates/pipeline_report.j2",
        ecall_conn_id="ecall_default",
    )
    # [END howto_operator_ecall_sms_template_file]

    loaded = load_orders()
    check_quality(loaded) >> send_report
