"""
### Acknowledge by SMS, or be called: an escalation chain

1. `page_primary` texts the on-call engineer: *reply ACK to take it*.
2. `wait_for_ack` waits (deferred, in the triggerer) for a reply from that number with the
   word **ACK**. A reply in time ends the chain: every later step is skipped.
3. Otherwise `call_primary` rings the engineer (text-to-speech) and `wait_after_call` gives
   them a second, shorter chance to reply ACK.
4. Still nothing: `page_second` texts and `call_second` rings the second person.

The waits run with `trigger_rule="all_failed"` downstream: a wait that *breaks* (eCall
unreachable, triggerer down) escalates too — an alert must not stop at a broken wait.

Replies are read from the account's inbound cache through one shared drain per connection
and triggerer (see `docs/replies.md`): this DAG and an asset watcher on the same account do
not take each other's replies. Give the alert SMS a sender the engineer can answer (the
connection's `default_callback`, or `callback`).

**Numbers** (read when the file is parsed): `ECALL_ONCALL_PRIMARY` (`+41790000011`),
`ECALL_ONCALL_SECOND` (`+41790000012`). **Waits**: `ECALL_ACK_TIMEOUT` seconds (600) and
half of it after the call; `ECALL_REPLY_POLL` seconds between cache polls (30).

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_ecall.operators.ecall import EcallSmsOperator, EcallVoiceOperator
from airflow_provider_ecall.sensors.ecall import EcallReplySensor

PRIMARY = os.environ.get("ECALL_ONCALL_PRIMARY", "+41790000011")
SECOND = os.environ.get("ECALL_ONCALL_SECOND", "+41790000012")
ACK_TIMEOUT = float(os.environ.get("ECALL_ACK_TIMEOUT", "600"))
POLL = float(os.environ.get("ECALL_REPLY_POLL", "30"))
INCIDENT = "{{ params.incident }} (run {{ run_id }})"

with DAG(
    dag_id="ecall_ack_escalation",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["ecall", "example"],
    params={"incident": Param("orders load is 2 hours late", type="string")},
) as dag:
    page_primary = EcallSmsOperator(
        task_id="page_primary",
        address=PRIMARY,
        message=f"ALERT: {INCIDENT}. Reply ACK to take it.",
    )
    wait_for_ack = EcallReplySensor(
        task_id="wait_for_ack",
        from_numbers=PRIMARY,
        words=["ACK"],
        timeout=ACK_TIMEOUT,
        poll_interval=POLL,
    )
    call_primary = EcallVoiceOperator(
        task_id="call_primary",
        address=PRIMARY,
        message=f"Airflow alert: {INCIDENT}. Reply A C K by SMS to take it.",
        language="EN",
        trigger_rule="all_failed",
    )
    wait_after_call = EcallReplySensor(
        task_id="wait_after_call",
        from_numbers=PRIMARY,
        words=["ACK"],
        timeout=ACK_TIMEOUT / 2,
        poll_interval=POLL,
    )
    page_second = EcallSmsOperator(
        task_id="page_second",
        address=SECOND,
        message=f"ALERT, not acknowledged by the on-call engineer: {INCIDENT}.",
        trigger_rule="all_failed",
    )
    call_second = EcallVoiceOperator(
        task_id="call_second",
        address=SECOND,
        message=f"Airflow alert, not acknowledged: {INCIDENT}.",
        language="EN",
    )

    page_primary >> wait_for_ack >> call_primary >> wait_after_call >> page_second >> call_second
