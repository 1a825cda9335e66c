"""
### The on-call recipe: page the on-call engineer, and call them if nobody answers ACK

*"Page the on-call engineer when any task fails, at most one SMS per 30 minutes per DAG,
nothing between 22:00 and 07:00 unless the task is critical, and call them if nobody
answers ACK within 10 minutes."* — `docs/oncall.md` walks through it.

- **Every task** alerts through one DAG-wide `EcallSmsNotifier` with a storm key
  (`dedup_key`: one SMS per DAG per 30 minutes) and quiet hours (inside them, one held SMS
  for the whole night, sent at 07:00).
- **The critical task** `settle_payments` has its own notifier: `urgent=True` (it goes at
  once, day or night, and a held or non-urgent alert of the same key never suppresses it)
  and its text asks for an ACK.
- **Its failure starts the escalation** in the same DAG run (`ack_escalation(after=...)`):
  wait for ACK from the on-call engineer, else call them, wait again, then page and call
  the second person. A reply "ACK" stops the chain.
- **Replies can come back**: every SMS goes out from `ECALL_REPLY_NUMBER`, a mobile number
  leased from eCall (an alphanumeric sender is refused when this file is parsed), and the
  waits read only the replies to that number.

**Numbers** (read when the file is parsed): `ECALL_ONCALL_PRIMARY` (`+41790000011`),
`ECALL_ONCALL_SECOND` (`+41790000012`), `ECALL_REPLY_NUMBER` (`+41790000000`). **Policy**:
`ECALL_QUIET_HOURS` (`22:00-07:00`, Europe/Zurich); `ECALL_ACK_TIMEOUT` seconds (600) and
half of it after the call; `ECALL_REPLY_POLL` seconds between cache polls (30).

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

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.operators.escalation import ack_escalation

PRIMARY = os.environ.get("ECALL_ONCALL_PRIMARY", "+41790000011")
SECOND = os.environ.get("ECALL_ONCALL_SECOND", "+41790000012")
REPLY_NUMBER = os.environ.get("ECALL_REPLY_NUMBER", "+41790000000")
QUIET_HOURS = os.environ.get("ECALL_QUIET_HOURS", "22:00-07:00")
ACK_TIMEOUT = float(os.environ.get("ECALL_ACK_TIMEOUT", "600"))
POLL = float(os.environ.get("ECALL_REPLY_POLL", "30"))

#: Every task's alert: one per DAG per 30 minutes; inside quiet hours one held for 07:00.
# [START howto_notifier_ecall_storm_quiet_hours]
alerts = EcallSmsNotifier(
    address=PRIMARY,
    callback=REPLY_NUMBER,
    dedup_key="{{ dag.dag_id }}",
    dedup_window=timedelta(minutes=30),
    quiet_hours=QUIET_HOURS,
    quiet_hours_timezone="Europe/Zurich",
)
# [END howto_notifier_ecall_storm_quiet_hours]

#: The critical task's page: at once, day or night; the escalation waits for its ACK.
# [START howto_notifier_ecall_urgent]
page = EcallSmsNotifier(
    address=PRIMARY,
    callback=REPLY_NUMBER,
    dedup_key="{{ dag.dag_id }}",
    urgent=True,
    message="URGENT {{ ti.task_id }} failed (run {{ run_id }}): {{ exception }}. "
    "Reply ACK to take it.",
)
# [END howto_notifier_ecall_urgent]

with DAG(
    dag_id="ecall_oncall_recipe",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Zurich"),
    catchup=False,
    doc_md=__doc__,
    tags=["ecall", "example"],
    default_args={"on_failure_callback": alerts},
) as dag:

    @task
    def refresh_dashboard() -> None:
        raise RuntimeError("the dashboard cache is cold")

    @task(on_failure_callback=page, trigger_rule="all_done")
    def settle_payments() -> None:
        raise RuntimeError("the payment gateway refused the batch")

    # [START howto_operator_ecall_ack_escalation_after]
    settle = settle_payments()
    refresh_dashboard() >> settle
    ack_escalation(
        after=settle,
        page=False,
        primary=PRIMARY,
        second=SECOND,
        callback=REPLY_NUMBER,
        incident="settle_payments failed (run {{ run_id }})",
        timeout=ACK_TIMEOUT,
        poll_interval=POLL,
    )
    # [END howto_operator_ecall_ack_escalation_after]
