"""
### SMS commands: reply `RERUN <dag>` to start a DAG run

The asset `ecall_inbound_sms` is fed by an **asset watcher** (Airflow 3.0+): the triggerer
runs `EcallInboundSmsTrigger`, which drains the eCall account's inbound cache and turns
each SMS into one asset event (`extra["payload"]`: `message_id`, `message`,
`address_from`, `address_to`, `timestamp`). This DAG is scheduled on that asset, so it runs
for new SMS; one run may carry several events.

`parse_commands` keeps the SMS that read `RERUN <dag_id>` from an allowed sender for an
allowed DAG, and `rerun` triggers one DAG run per command. The run id is
`sms__<MessageID>`, and runs that exist already are skipped: delivery is at-least-once, so
a message seen twice (after a triggerer restart) starts its DAG once.

**Allowed** (read when the file is parsed): senders `ECALL_COMMAND_SENDERS` (`;`-separated,
default `+41790000011`), DAGs `ECALL_COMMAND_DAGS` (default `ecall_pipeline_report`).
`ECALL_REPLY_POLL`: seconds between cache polls (30).

**Connection**: `ecall_default` (type `ecall`). A callback receiver (`docs/replies.md`) can
feed the same kind of payload from eCall's reply callbacks instead of the cache.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pendulum

try:
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
    from airflow.sdk import DAG, Asset, AssetWatcher, task
except ImportError as missing:  # Airflow 2.11: no asset watchers
    raise ImportError(
        "ecall_sms_commands needs Airflow 3.0 or newer (asset watchers run its inbound SMS trigger)"
    ) from missing

from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.triggers.ecall import EcallInboundSmsTrigger

log = logging.getLogger(__name__)

SENDERS = {n.strip() for n in os.environ.get("ECALL_COMMAND_SENDERS", "+41790000011").split(";")}
DAGS = {d.strip() for d in os.environ.get("ECALL_COMMAND_DAGS", "ecall_pipeline_report").split(";")}
POLL = float(os.environ.get("ECALL_REPLY_POLL", "30"))

# [START howto_trigger_ecall_inbound_sms]
inbound_sms = Asset(
    "ecall_inbound_sms",
    watchers=[
        AssetWatcher(
            name="ecall_inbound_sms",
            trigger=EcallInboundSmsTrigger(ecall_conn_id="ecall_default", poll_interval=POLL),
        )
    ],
)
# [END howto_trigger_ecall_inbound_sms]


def parse_command(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The DAG run one SMS asks for, or None (not a command, sender or DAG not allowed)."""
    words = str(payload.get("message", "")).split()
    sender = str(payload.get("address_from") or "")
    if len(words) != 2 or words[0].upper() != "RERUN":
        return None
    if sender not in SENDERS or words[1] not in DAGS:
        log.warning(
            "SMS %s from %s: command refused", payload.get("message_id"), mask_address(sender)
        )
        return None
    return {
        "trigger_dag_id": words[1],
        "trigger_run_id": f"sms__{payload['message_id']}",
        "conf": {"requested_by": mask_address(sender), "message_id": payload["message_id"]},
    }


with DAG(
    dag_id="ecall_sms_commands",
    schedule=[inbound_sms],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["ecall", "example"],
) as dag:

    @task
    def parse_commands(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One TriggerDagRunOperator argument set per command SMS of this run."""
        events = triggering_asset_events[inbound_sms] if triggering_asset_events else []
        found = [parse_command(dict(event.extra.get("payload") or {})) for event in events]
        return [command for command in found if command is not None]

    TriggerDagRunOperator.partial(task_id="rerun", skip_when_already_exists=True).expand_kwargs(
        parse_commands()
    )
