"""Which tasks of a DAG run failed, for the default text of a DAG-level alert (no Airflow
import: only what the callback's context objects offer is called).

- Airflow 3 gives a DAG-level callback the run's last relevant task instance as ``ti``; its
  ``get_task_states`` asks the API server (through the DAG processor's supervisor, or the
  ``dag.test()`` process) for the states of every task of the run.
- Airflow 2.11 gives the ORM ``dag_run``, whose ``get_task_instances(state=...)`` reads
  the database.
- ``airflow dags test`` / ``dag.test()`` run DAG callbacks in-process without a supervisor
  to ask; there the database is read directly.

Whatever cannot be asked gives None, and the alert falls back to naming the last task:
an alert never fails for want of this detail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Final

log = logging.getLogger(__name__)

#: How many failed task ids a DAG alert names before "(+N more)".
FIRST_FEW: Final = 3
_FAILED: Final = frozenset({"failed"})


def _state_text(state: object) -> str:
    return str(getattr(state, "value", state))


def _from_states(states: Mapping[str, object], run_id: str) -> tuple[str, ...]:
    per_run = states.get(run_id, {})
    items = per_run.items() if isinstance(per_run, Mapping) else ()
    return tuple(sorted(str(task) for task, state in items if _state_text(state) in _FAILED))


def _from_task_instances(instances: Iterable[object]) -> tuple[str, ...]:
    return tuple(sorted({str(getattr(ti, "task_id", "")) for ti in instances} - {""}))


def failed_task_ids(context: Mapping[str, object]) -> tuple[str, ...] | None:
    """The ids of the run's failed tasks, sorted; None when the context cannot tell."""
    run = context.get("dag_run")
    ti = context.get("ti")
    run_id = str(context.get("run_id") or getattr(ti, "run_id", "") or "")
    dag_id = getattr(context.get("dag"), "dag_id", None) or getattr(ti, "dag_id", None)
    try:
        get_tis = getattr(run, "get_task_instances", None)
        if callable(get_tis):  # Airflow 2: the ORM run
            return _from_task_instances(get_tis(state=sorted(_FAILED)))
        get_states = getattr(ti, "get_task_states", None)
        if callable(get_states) and dag_id and run_id:  # Airflow 3: the task SDK
            return _from_states(get_states(dag_id=dag_id, run_ids=[run_id]), run_id)
    except Exception as exc:  # a detached object, no supervisor, an API error
        log.debug("failed tasks of run %s not asked: %s", run_id, type(exc).__name__)
    if not (dag_id and run_id):
        return None
    try:
        from airflow_provider_ecall.utils.compat import failed_tasks_in_database

        return failed_tasks_in_database(str(dag_id), run_id)
    except Exception as exc:  # no database access in this process
        log.debug("failed tasks of run %s not read: %s", run_id, type(exc).__name__)
    return None


def describe_failed(task_ids: tuple[str, ...]) -> str:
    """``"3 tasks failed: a, b, c"``, ``"12 tasks failed: a, b, c (+9 more)"``."""
    shown = ", ".join(task_ids[:FIRST_FEW])
    more = len(task_ids) - FIRST_FEW
    noun = "task" if len(task_ids) == 1 else "tasks"
    return f"{len(task_ids)} {noun} failed: {shown}" + (f" (+{more} more)" if more > 0 else "")
