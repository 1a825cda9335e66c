"""``make demo``'s step for ``ecall_sms_commands``: the triggerer's and the scheduler's part,
played in one process, so SMS commands go through the example DAG as in a deployment.

``ecall_sms_commands`` runs on the asset events its asset watcher makes from inbound SMS.
``airflow dags test`` has no triggerer and no scheduler, and the manual run it makes carries
no asset event: the DAG would find no command. This script (run by ``make demo`` in the demo's
Airflow environment) does what those two components do, with Airflow's own calls:

1. the triggerer's part: builds the watcher's trigger from its database row (class path and
   kwargs, as the DAG processor stored them), runs it until the account's inbound cache is
   empty, and submits each event with ``Trigger.submit_event`` (one asset event per SMS);
2. the scheduler's part: one asset-triggered run of ``ecall_sms_commands`` that consumes
   those events, made with the calls ``SchedulerJobRunner`` makes it with;
3. runs that run, then each run its ``TriggerDagRunOperator`` started, with the in-process
   task runner of ``dag.test()`` (``airflow dags test`` cannot run an existing run).

Usage: ``python -m scripts.demo.commands EXPECTED OUT.json`` — EXPECTED SMS are waiting in
the cache; OUT.json gets the SMS it drained (numbers masked) and the runs with their
states. It exits non-zero when a run did not succeed.
Uses Airflow 3.3 internals; ``make demo`` installs Airflow 3.3.2.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from airflow_provider_ecall.client.privacy import mask_address

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from sqlalchemy.orm import Session

DAG_ID = "ecall_sms_commands"
ASSET = "ecall_inbound_sms"
#: The longest wait for the first SMS, and for a drained cache (seconds); limits, not pacing.
LIMIT = 60.0


def watcher_trigger() -> tuple[int, Any]:
    """Unpause the DAG (Airflow registers the watchers of unpaused DAGs only) and parse it
    again; the id of the watcher's trigger row and the trigger rebuilt from that row."""
    from airflow._shared.module_loading import import_string
    from airflow.models.asset import AssetModel
    from airflow.models.dag import DagModel
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.session import create_session

    get_bagged_dag(None, DAG_ID)  # parses the DAG folder: the DAG is in the database, paused
    with create_session() as session:
        dag = session.get(DagModel, DAG_ID)
        assert dag is not None, f"{DAG_ID} is not in the database"
        dag.is_paused = False
    get_bagged_dag(None, DAG_ID)  # again: now the watcher's trigger is written
    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == ASSET))
        if asset is None or not asset.watchers:
            sys.exit(f"the watcher of asset {ASSET!r} is not in the database")
        row = asset.watchers[0].trigger
        return row.id, import_string(row.classpath)(**row.kwargs)


async def drain(trigger: Any, expected: int) -> list[Any]:
    """Run the trigger until it made ``expected`` events and then went quiet for two of its
    poll intervals and a second (it deletes each SMS once its event is out)."""
    events: list[Any] = []
    stream: AsyncGenerator[Any, None] = trigger.run()
    quiet = 2 * float(trigger.poll_interval) + 1
    try:
        while True:
            wait = quiet if len(events) >= expected else LIMIT
            try:
                events.append(await asyncio.wait_for(anext(stream), timeout=wait))
            except asyncio.TimeoutError:
                return events
    finally:
        await stream.aclose()


def asset_triggered_run(session: Session, first_event_id: int) -> DagRun:
    """The run the scheduler would make: consuming every event of the asset since
    ``first_event_id``, its queue entries removed."""
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.sdk import timezone
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
    assert dag is not None, f"{DAG_ID} is not in the database"
    events = session.scalars(
        select(AssetEvent)
        .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        .where(AssetModel.name == ASSET, AssetEvent.id >= first_event_id)
        .order_by(AssetEvent.id)
    ).all()
    now = timezone.utcnow()
    run = dag.create_dagrun(
        run_id=DagRun.generate_run_id(
            run_type=DagRunType.ASSET_TRIGGERED, logical_date=None, run_after=now
        ),
        logical_date=None,
        data_interval=None,
        run_after=now,
        run_type=DagRunType.ASSET_TRIGGERED,
        triggered_by=DagRunTriggeredByType.ASSET,
        state=DagRunState.RUNNING,
        session=session,
    )
    run.consumed_asset_events.extend(events)
    session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == DAG_ID).delete()
    session.commit()
    print(f"Created asset-triggered run {run.run_id} consuming {len(events)} asset event(s)")
    return run


def run_to_the_end(run: DagRun, session: Session) -> str:
    """Run every task of an existing run in this process, as ``dag.test()`` does."""
    from airflow.models.dagbag import DBDagBag
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.state import DagRunState, TaskInstanceState

    sdk_dag = get_bagged_dag(None, run.dag_id)
    run.dag = DBDagBag().get_latest_version_of_dag(run.dag_id, session=session)
    run.state = DagRunState.RUNNING
    session.commit()
    give_up = time.monotonic() + 10 * LIMIT
    while run.state == DagRunState.RUNNING and time.monotonic() < give_up:
        session.expire_all()
        ready, _ = run.update_state(session=session)
        for ti in ready:
            if ti.state != TaskInstanceState.UP_FOR_RESCHEDULE:
                ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        scheduled = [
            ti
            for ti in run.get_task_instances(session=session)
            if ti.state == TaskInstanceState.SCHEDULED
        ]
        if not scheduled:
            time.sleep(0.5)
        for ti in scheduled:
            _run_task(ti=ti, task=sdk_dag.task_dict[ti.task_id], run_triggerer=True)
    return str(run.state)


def started_runs(session: Session, since: Any) -> list[DagRun]:
    """The runs a ``TriggerDagRunOperator`` started since ``since``."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    return list(
        session.scalars(
            select(DagRun)
            .where(DagRun.run_type == DagRunType.OPERATOR_TRIGGERED, DagRun.queued_at >= since)
            .order_by(DagRun.id)
        )
    )


def main() -> int:
    from airflow.models.asset import AssetEvent
    from airflow.models.trigger import Trigger
    from airflow.sdk import timezone
    from airflow.utils.session import create_session

    expected, out = int(sys.argv[1]), Path(sys.argv[2])
    started = timezone.utcnow()
    trigger_id, trigger = watcher_trigger()
    with create_session() as session:
        first_event_id = (session.scalar(select(func.max(AssetEvent.id))) or 0) + 1
    events = asyncio.run(drain(trigger, expected))
    print(f"The watcher's trigger drained {len(events)} SMS from the inbound cache", flush=True)
    for event in events:
        Trigger.submit_event(trigger_id, event)  # one asset event per SMS, as the triggerer
    with create_session() as session:
        run = asset_triggered_run(session, first_event_id)
        runs = [(run.dag_id, run.run_id, run_to_the_end(run, session))]
        for started_run in started_runs(session, started):
            state = run_to_the_end(started_run, session)
            runs.append((started_run.dag_id, started_run.run_id, state))
    drained = [
        {
            "message_id": event.payload["message_id"],
            "from": mask_address(str(event.payload["address_from"])),
            "message": event.payload["message"],
        }
        for event in events
    ]
    out.write_text(json.dumps({"drained": drained, "runs": runs}, indent=1), encoding="utf-8")
    return 0 if all(state == "success" for _, _, state in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
