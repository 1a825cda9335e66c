"""Callback contexts as Airflow 3 builds them, for tests and benchmarks that call a notifier
directly (many of them, or in a tight loop) rather than through a DAG run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import pendulum

if TYPE_CHECKING:
    from airflow_provider_ecall.utils.compat import DAG


def failure_context(dag: DAG, index: int) -> dict[str, object]:
    """The context a task's ``on_failure_callback`` gets in Airflow 3, for task ``index``.

    The task instance is a stand-in with the attributes a callback reads (a runtime task
    instance needs a running supervisor); everything else is what Airflow puts there.
    """
    run_id = f"scheduled__2026-01-01T00:00:00+00:00_{index}"
    logical_date = pendulum.datetime(2026, 1, 1, tz="UTC")
    ti = SimpleNamespace(
        dag_id=dag.dag_id,
        task_id=f"load_{index}",
        run_id=run_id,
        map_index=-1,
        try_number=1 + index % 3,
        state="failed",
        log_url=f"http://localhost:8080/dags/{dag.dag_id}/runs/{run_id}/tasks/load_{index}",
    )
    return {
        "dag": dag,
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
        "logical_date": logical_date,
        "ds": logical_date.to_date_string(),
        "ts": logical_date.isoformat(),
        "params": {"table": f"table_{index}"},
        "exception": RuntimeError(f"table_{index}: disk quota exceeded on shard {index}"),
    }
