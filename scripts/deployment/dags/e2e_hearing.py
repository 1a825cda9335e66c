"""The DAGs of the "hearing back" scenarios (issue 13): inbound SMS and eCall's callbacks as
Airflow events, under the real scheduler, triggerer and api-server.

The tasks return ids only (MessageID, JobID): the asset events' payloads carry phone numbers
in full, and neither a task's log nor its XCom may show them.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task
from e2e_numbers import NUMBERS

from airflow_provider_ecall.operators.ecall import EcallSmsOperator
from airflow_provider_ecall.sensors.ecall import EcallReplySensor
from airflow_provider_ecall.triggers.ecall import EcallInboundSmsTrigger

START = pendulum.datetime(2026, 1, 1, tz="UTC")
#: The waits below ask eCall once an hour: only a callback can end them within the run.
HOURLY = 3600
#: The assets the callback receiver records on (its defaults); a DAG must declare them.
CALLBACK_REPLIES = Asset("ecall_callback_replies")
DELIVERY_REPORTS = Asset("ecall_delivery_reports")
#: Fed by an asset watcher that drains the ``watcher`` sandbox's inbound cache.
INBOUND_SMS = Asset(
    "e2e_inbound_sms",
    watchers=[
        AssetWatcher(
            name="e2e_inbound_sms",
            trigger=EcallInboundSmsTrigger(ecall_conn_id="ecall_watcher", poll_interval=1),
        )
    ],
)


def _dag(dag_id: str, schedule: Any = None) -> DAG:
    return DAG(dag_id, schedule=schedule, start_date=START, catchup=False, tags=["e2e"])


def _payload_ids(events: Any, asset: Asset, key: str) -> list[str]:
    """``payload[key]`` of each of the run's events on ``asset``, in order."""
    found = events[asset] if events else []
    return [str((event.extra.get("payload") or {}).get(key)) for event in found]


# One run per inbound SMS: the task returns the MessageIDs its run was triggered by.
with _dag("e2e_watcher", schedule=[INBOUND_SMS]):

    @task
    def seen(triggering_asset_events: Any = None) -> list[str]:
        return _payload_ids(triggering_asset_events, INBOUND_SMS, "message_id")

    seen()

# One run per reply callback the api-server recorded: the JobIDs the replies answer.
with _dag("e2e_callback_reply", schedule=[CALLBACK_REPLIES]):

    @task
    def replied(triggering_asset_events: Any = None) -> list[str]:
        return _payload_ids(triggering_asset_events, CALLBACK_REPLIES, "job_id")

    replied()

# Declares the delivery-report asset (the receiver answers 503 for an undeclared one).
with _dag("e2e_delivery_reports", schedule=[DELIVERY_REPORTS]):

    @task
    def reported(triggering_asset_events: Any = None) -> list[str]:
        return _payload_ids(triggering_asset_events, DELIVERY_REPORTS, "job_id")

    reported()

# A send that waits, deferred, for delivery; polling alone would ask again after an hour.
# The delivery callback has to wake it.
with _dag("e2e_delivery_wake"):
    EcallSmsOperator(
        task_id="send",
        address=NUMBERS["delivery_wake"],
        message="delivery_wake: {{ run_id }}",
        ecall_conn_id="ecall_delivery_wake",
        wait_for_delivery=True,
        deferrable=True,
        delivery_poll_interval=HOURLY,
        delivery_timeout=600,
    )

# The same wait, its delivery callback URL signed for its own JobID by the provider: only that
# URL, for that job and before it expires, may wake it (``callback_signed_wake``).
with _dag("e2e_signed_wake"):
    EcallSmsOperator(
        task_id="send",
        address=NUMBERS["signed_wake"],
        message="signed_wake: {{ run_id }}",
        notification_address="ecall:callback",
        ecall_conn_id="ecall_signed_wake",
        wait_for_delivery=True,
        deferrable=True,
        delivery_poll_interval=HOURLY,
        delivery_timeout=600,
    )

# Two waits for an ACK, side by side, that hear the cache only hourly: a reply callback from
# the first one's number has to end it; the second waits for another number, so the same
# callback must leave it waiting until its own (short) timeout, then it is skipped.
with _dag("e2e_reply_wake"):
    EcallReplySensor(
        task_id="wait_ack",
        from_numbers=NUMBERS["reply_wake"],
        words=["ACK"],
        timeout=300,
        poll_interval=HOURLY,
        ecall_conn_id="ecall_reply_wake",
    )
    EcallReplySensor(
        task_id="wait_other",
        from_numbers=NUMBERS["reply_other"],
        words=["ACK"],
        timeout=45,
        poll_interval=HOURLY,
        soft_fail=True,
        ecall_conn_id="ecall_reply_wake",
    )
