"""Facts an operator or notifier reads from an Airflow context (no Airflow import).

- :func:`task_job_id`: the deterministic JobID of a task's series of tries, the same for
  every automatic retry, so a retry can ask eCall whether the first try's send arrived;
  clearing the task starts a new series, and so a new JobID (a deliberate re-run sends).
- :func:`first_try_of_series`: the try number that starts the current series.
- :func:`context_timezone`: the zone a naive ``send_date`` is read in (the DAG's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import tzinfo
from typing import Final

#: Prefix of generated JobIDs: "af-" + 32 hex characters = 35, leaving room for the
#: client's "-N" batch suffix within eCall's 50 characters.
JOB_ID_PREFIX: Final = "af-"
JOB_ID_HEX_LENGTH: Final = 32


def task_job_id(
    dag_id: str, task_id: str, run_id: str, map_index: int | None, series: int = 1
) -> str:
    """The JobID of a task instance's series of tries: a hash of DAG, task, run, map index
    and the series' first try number.

    Automatic retries share the JobID; mapped instances, runs and clears get different ones.

    :return: e.g. ``"af-3f2a…"`` (35 characters).
    """
    index = -1 if map_index is None else map_index
    key = "\x1f".join((dag_id, task_id, run_id, str(index), str(series)))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return JOB_ID_PREFIX + digest[:JOB_ID_HEX_LENGTH]


def first_try_of_series(max_tries: int | None, retries: int | None) -> int:
    """The try number that starts the current series of tries (Airflow's own rule: clearing
    a task raises ``max_tries`` by ``retries + 1``, so the series starts after the old one).

    :param max_tries: the task instance's ``max_tries`` (None where Airflow gives none).
    :param retries: the task's ``retries``.
    """
    if max_tries is None:
        return 1
    return max(1, max_tries - (retries or 0) + 1)


def context_timezone(context: Mapping[str, object]) -> str | tzinfo:
    """The DAG's timezone from a context, UTC when the context has no DAG or zone."""
    zone = getattr(context.get("dag"), "timezone", None)
    return zone if isinstance(zone, (str, tzinfo)) else "UTC"
