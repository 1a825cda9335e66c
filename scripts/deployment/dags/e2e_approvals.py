"""The DAGs of the approval scenarios (issue 19): an ``ApprovalOperator`` whose request goes
out by SMS (``EcallHITLNotifier``) and is answered by SMS reply, through the callback receiver
on the api-server. Both send through ``ecall_approval`` (the receiver's confirmations too,
``[ecall] approval_conn_id``), each to its own approver.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG
from e2e_numbers import APPROVERS, NUMBERS

from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

START = pendulum.datetime(2026, 1, 1, tz="UTC")
#: How long ``e2e_approval_late`` waits for its answer; the scheduler's sweep (every 15 s)
#: then takes its default.
LATE_TIMEOUT = timedelta(seconds=5)
#: ``e2e_approval`` reminds its approver this often (the api-server scans every 2 s).
REMIND_EVERY = timedelta(seconds=10)


def _approval(
    dag_id: str, approver: str, notify: dict[str, object] | None = None, **kwargs: object
) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, tags=["e2e"]) as dag:
        ApprovalOperator(
            task_id="approve",
            subject=f"{dag_id}: deploy build 1234?",
            body="Its checks passed.",
            notifiers=[
                EcallHITLNotifier(
                    address=NUMBERS[approver], ecall_conn_id="ecall_approval", **(notify or {})
                )
            ],
            **kwargs,
        )
    return dag


# Waits until answered, reminding every 10 s; only alice may answer it.
e2e_approval = _approval(
    "e2e_approval",
    "approver",
    {"remind_every": REMIND_EVERY, "max_reminders": 5},
    assigned_users=[{"id": APPROVERS["approver"], "name": APPROVERS["approver"]}],
)
# Unanswered, it times out after 5 s and takes its default (Reject); the reply comes after.
e2e_approval_late = _approval(
    "e2e_approval_late", "late_approver", response_timeout=LATE_TIMEOUT, defaults="Reject"
)
