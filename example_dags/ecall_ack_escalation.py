"""
### Acknowledge by SMS, or be called: an escalation chain

1. `page_primary` texts the on-call engineer: *reply ACK to take it*.
2. `wait_for_ack` waits (deferred, in the triggerer) for a reply from that number with the
   word **ACK**. A reply in time ends the chain: every later step is skipped.
3. Otherwise `call_primary` rings the engineer (text-to-speech) and `wait_after_call` gives
   them a second, shorter chance to reply ACK.
4. Still nothing: `page_second` texts and `call_second` rings the second person.

The chain comes from `ack_escalation()` (`airflow_provider_ecall.operators.escalation`),
which also starts it from a task's failure in any DAG (`after=`; see
`example_dags/ecall_oncall_recipe.py` and `docs/oncall.md`). The waits run with
`trigger_rule="all_failed"` downstream: a wait that *breaks* (eCall unreachable, triggerer
down) escalates too — an alert must not stop at a broken wait.

**Replies need a number to reply to.** The SMS go out from `ECALL_REPLY_NUMBER`, a mobile
number leased from eCall whose inbound SMS land in the account's cache; an alphanumeric
sender (`"OpsTeam"`) cannot be answered and is refused when the file is parsed. The waits
read only the SMS sent to that number (`mobile_number`), through one shared drain per
connection and triggerer (`docs/replies.md`): SMS to the account's other numbers never
block them. An unrelated SMS to the same number ("on it") does: it stays at the head of
the cache and hides the ACK behind it until the wait times out (the chain then calls, so
nothing is swallowed, but the ACK comes too late) — unless an asset watcher with the same
`mobile_number` runs (`EcallInboundSmsTrigger`, as `ecall_sms_commands` does) and takes it.

**Numbers** (read when the file is parsed): `ECALL_ONCALL_PRIMARY` (`+41790000011`),
`ECALL_ONCALL_SECOND` (`+41790000012`), `ECALL_REPLY_NUMBER` (`+41790000000`). **Waits**:
`ECALL_ACK_TIMEOUT` seconds (600) and half of it after the call; `ECALL_REPLY_POLL` seconds
between cache polls (30).

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os

import pendulum

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.models.param import Param

from airflow_provider_ecall.operators.escalation import ack_escalation

PRIMARY = os.environ.get("ECALL_ONCALL_PRIMARY", "+41790000011")
SECOND = os.environ.get("ECALL_ONCALL_SECOND", "+41790000012")
REPLY_NUMBER = os.environ.get("ECALL_REPLY_NUMBER", "+41790000000")
ACK_TIMEOUT = float(os.environ.get("ECALL_ACK_TIMEOUT", "600"))
POLL = float(os.environ.get("ECALL_REPLY_POLL", "30"))

with DAG(
    dag_id="ecall_ack_escalation",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["ecall", "example"],
    params={"incident": Param("orders load is 2 hours late", type="string")},
) as dag:
    # [START howto_operator_ecall_ack_escalation]
    ack_escalation(
        primary=PRIMARY,
        second=SECOND,
        callback=REPLY_NUMBER,
        incident="{{ params.incident }} (run {{ run_id }})",
        timeout=ACK_TIMEOUT,
        poll_interval=POLL,
    )
    # [END howto_operator_ecall_ack_escalation]
