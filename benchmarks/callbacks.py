"""Callback latency against the number of deferred waits in the metadata database.

A throw-away SQLite database (``.bench/airflow-home``) is migrated, one DAG run made with
``dag.test()``, and its task instance copied into N deferred delivery waits (one
``EcallDeliveryTrigger`` each, one JobID each). The receiver, as the api-server mounts it,
is called through FastAPI's test client with delivery notifications that each resume one
wait (asset not declared: the resumed task is what takes it). The waits are dated over the
hour before the run: a callback re-reads rows of the last minute (see ``TriggerIndex``).
Levels grow in one run: 100, then 2,000, then 10,000 waits; at each level the first
callback (which decodes the new trigger rows once) is reported apart, then the median of
the timed rounds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common import BENCH_DIR

TOKEN = "bench-" + "0123456789abcdef" * 3
DAG_FILE = """
import pendulum
from airflow_provider_ecall.utils.compat import DAG
from airflow.sdk import task

with DAG("bench_callbacks", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
    @task
    def wait():
        pass

    wait()
"""


@dataclass(frozen=True)
class Level:
    """Callback latency with ``waits`` deferred waits.

    :param waits: deferred delivery waits in the database.
    :param first: seconds of the first callback after the new waits appeared.
    :param median: median seconds per callback over the timed rounds.
    """

    waits: int
    first: float
    median: float


def _migrate(home: Path) -> None:
    (home / "airflow.db").unlink(missing_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True, timeout=600)


def _template_row() -> dict[str, Any]:
    """The raw row of one real task instance (``dag.test()`` of a one-task DAG)."""
    import importlib.util

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    folder = BENCH_DIR / "airflow-home" / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench_callbacks.py"
    path.write_text(DAG_FILE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bench_callbacks", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.dag.test()
    table = TaskInstance.__table__
    with create_session() as session:
        return dict(session.execute(select(table).limit(1)).mappings().one())


def _add_waits(template: dict[str, Any], start: int, count: int) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import insert

    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

    deadline = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    with create_session() as session:
        rows = [
            Trigger.from_object(
                EcallDeliveryTrigger(
                    job_ids=[f"bench-{i}"], ecall_conn_id="ecall_default",
                    poll_interval=3600, deadline=deadline,
                )
            )
            for i in range(start, start + count)
        ]  # fmt: skip
        # Waits exist for a while before their callback comes (a delivery wait lasts hours):
        # created over the hour before, as the receiver meets them in steady state.
        for n, row in enumerate(rows):
            row.created_date = datetime.now(timezone.utc) - timedelta(hours=1, seconds=n)
        session.add_all(rows)
        session.flush()
        instances = [
            {**template, "id": uuid.uuid4(), "map_index": start + n, "state": "deferred",
             "trigger_id": row.id, "next_method": "execute_complete", "next_kwargs": {}}
            for n, row in enumerate(rows)
        ]  # fmt: skip
        session.execute(insert(TaskInstance.__table__), instances)


def _call(client: Any, job: int) -> float:
    from airflow_provider_ecall.sandbox.callbacks import callback_url, delivery_params

    params = delivery_params(number="+41791112233", result_code=0, result_text="OK",
                             job_id=f"bench-{job}")  # fmt: skip
    path = callback_url(f"/callbacks/{TOKEN}/delivery", params)
    started = time.perf_counter()
    answer = client.get(path)
    took = time.perf_counter() - started
    if answer.status_code != 200 or answer.text != "OK":
        raise RuntimeError(f"callback answered {answer.status_code} {answer.text}")
    return took


def measure(levels: tuple[int, ...], rounds: int) -> list[Level]:
    """Callback latency at each level of deferred waits (levels ascending)."""
    from fastapi.testclient import TestClient

    home = BENCH_DIR / "airflow-home"
    _migrate(home)
    from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app

    template = _template_row()
    client = TestClient(build_app(ReceiverSettings((TOKEN,))))
    results: list[Level] = []
    have = 0
    for level in levels:
        _add_waits(template, have, level - have)
        have = level
        # Each callback resumes one wait, from the newest down: the level stays ~constant.
        jobs = iter(range(level - 1, -1, -1))
        first = _call(client, next(jobs))
        times = [_call(client, next(jobs)) for _ in range(rounds)]
        results.append(Level(level, first, statistics.median(times)))
    return results
