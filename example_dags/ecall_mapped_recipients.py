"""
### One SMS per recipient with dynamic task mapping

`roster` returns today's recipients; `notify` is
`EcallSmsOperator.partial(...).expand(address=roster())`: one mapped task instance — and
one eCall job with its own JobID and its own retries — per recipient, so a bad number
fails only its own instance. `summarise` collects the operators' XCom results (job id,
recipient count, result code; never a number or a credential).

To give each recipient a different text, map over keyword sets instead:
`EcallSmsOperator.partial(task_id=...).expand_kwargs(roster_with_messages())`, where the
task returns `[{"address": "+41…", "message": "…"}, …]`.

**Recipients**: the Airflow Variable `ecall_roster` (a JSON list of numbers) when it
exists, else the environment variable `ECALL_ROSTER` (numbers separated by `;`), else three
placeholders `+41790000011`, `+41790000012`, `+41790000013`.

Privacy: `roster` keeps its return value out of its log (`show_return_value_in_logs=False`),
but the roster is an XCom value, so the numbers are stored in Airflow's database in full.
Entries may also be eCall address-book names (`address` accepts them), which keeps the
numbers out of Airflow altogether.

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pendulum

try:
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

from airflow_provider_ecall.operators.ecall import EcallSmsOperator

DEFAULT_ROSTER = "+41790000011;+41790000012;+41790000013"

with DAG(
    dag_id="ecall_mapped_recipients",
    description="Shift-handover SMS, one mapped task per recipient",
    schedule="0 7 * * 1-5",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Zurich"),
    catchup=False,
    tags=["ecall", "example", "sms", "mapping"],
    doc_md=__doc__,
) as dag:

    @task(show_return_value_in_logs=False)  # the numbers stay out of the task log
    def roster() -> list[str]:
        """Today's recipients: the Variable ``ecall_roster``, else ``ECALL_ROSTER``."""
        numbers = Variable.get("ecall_roster", None, deserialize_json=True)
        if numbers is None:
            numbers = os.environ.get("ECALL_ROSTER", DEFAULT_ROSTER).split(";")
        return [number.strip() for number in numbers if number.strip()]

    # [START howto_operator_ecall_sms_mapped]
    notify = EcallSmsOperator.partial(
        task_id="notify",
        message=(
            "Shift handover {{ dag_run.start_date.strftime('%d.%m.%Y') }}: you are number "
            "{{ ti.map_index + 1 }} on today's roster. Reply to your team lead if you cannot "
            "make it."
        ),
        ecall_conn_id="ecall_default",
    ).expand(address=roster())
    # [END howto_operator_ecall_sms_mapped]

    @task
    def summarise(results: Iterable[dict[str, object]]) -> dict[str, int]:
        """Count the jobs and recipients the mapped sends reported."""
        results = list(results)
        summary = {
            "jobs": len(results),
            "recipients": sum(int(str(result["recipient_count"])) for result in results),
        }
        print(f"eCall accepted {summary['jobs']} job(s) for {summary['recipients']} recipient(s)")
        return summary

    summarise(notify.output)
