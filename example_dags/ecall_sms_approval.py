"""
### Approve a deployment by SMS (human-in-the-loop, Airflow 3.1+)

1. `build` stands for the work that precedes a release.
2. `approve_deploy` is Airflow's `ApprovalOperator`: the run waits for an answer on the
   UI's Required Actions page — and, through `EcallHITLNotifier`, by SMS: the approver gets
   the subject, the body, `1 Approve / 2 Reject`, a reference code and the link.
3. `deploy` runs on *Approve*; *Reject* skips it.

While the request waits the approver gets an SMS reminder every 15 minutes (each with its
own `Answer` URL), and after an hour the on-call number is called; both stop as soon as the
request is answered. The api-server sends them (`[ecall] hitl_reminder_interval`), from a
plan sealed with `[ecall] callback_signing_keys`: where that key is not set the request is
sent once, without reminders.

The approver answers `1` or `2`. eCall forwards the reply to the callback receiver (its
signed `Answer` URL), which records it as the Airflow user the number maps to and texts back
`Approve: ecall_sms_approval/approve_deploy, by alice`. Needs, where the api-server runs:
`[ecall] callback_base_url`, `[ecall] callback_signing_keys` and
`[ecall] approval_responders` (e.g. `+41790000021=alice`); see `docs/approvals.md`. Without
them the SMS still goes out and the request is answered in the UI.

**Numbers** (read when the file is parsed): `ECALL_APPROVER` (`+41790000021`),
`ECALL_ON_CALL` (`+41790000022`, the escalation call). `ECALL_APPROVAL_REMIND_SECONDS`
(`900`) and `ECALL_APPROVAL_ESCALATE_SECONDS` (`3600`) set the timings (at least 10 s, for a
quick test). The request waits until answered; a `response_timeout` (with `defaults`)
bounds it on standard providers that have it (older ones take `execution_timeout`).

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import DAG, task
except Exception as missing:  # 2.11 and 3.0: no human-in-the-loop tasks
    raise ImportError(
        "ecall_sms_approval needs Airflow 3.1 or newer (human-in-the-loop tasks)"
    ) from missing

from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

APPROVER = os.environ.get("ECALL_APPROVER", "+41790000021")
ON_CALL = os.environ.get("ECALL_ON_CALL", "+41790000022")
REMIND = timedelta(seconds=int(os.environ.get("ECALL_APPROVAL_REMIND_SECONDS", "900")))
ESCALATE = timedelta(seconds=int(os.environ.get("ECALL_APPROVAL_ESCALATE_SECONDS", "3600")))
#: Reminders need [ecall] callback_signing_keys (it seals their plan); without it: none.
REMINDERS = EcallHITLNotifier.can_remind()

with DAG(
    dag_id="ecall_sms_approval",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["ecall", "example"],
) as dag:

    @task
    def build() -> str:
        return "1234"

    @task
    def deploy(build_id: str) -> None:
        print(f"deploying build {build_id}")

    built = build()
    # [START howto_notifier_ecall_hitl]
    approve = ApprovalOperator(
        task_id="approve_deploy",
        subject="Deploy build {{ ti.xcom_pull(task_ids='build') }} to production?",
        body="Its checks passed. Reply 1 to approve, 2 to reject.",
        notifiers=[
            EcallHITLNotifier(
                address=APPROVER,
                remind_every=REMIND if REMINDERS else None,  # an SMS while it waits
                escalate_after=ESCALATE if REMINDERS else None,  # then a voice call
                escalate_to=ON_CALL,
            )
        ],
    )
    # [END howto_notifier_ecall_hitl]
    built >> approve >> deploy(built)
