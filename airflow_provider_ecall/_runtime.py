"""Facts an operator or notifier reads from an Airflow context (no Airflow import).

- :func:`task_job_id`: the deterministic JobID of a task try, the same for every try, so a
  retry can ask eCall whether the first try's send arrived.
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


def task_job_id(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    """The JobID of a task instance: a hash of DAG, task, run and map index.

    Every try of the same task instance gets the same JobID; mapped instances and runs get
    different ones.

    :return: e.g. ``"af-3f2a…"`` (35 characters).
    """
    index = -1 if map_index is None else map_index
    key = "\x1f".join((dag_id, task_id, run_id, str(index)))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return JOB_ID_PREFIX + digest[:JOB_ID_HEX_LENGTH]


def context_timezone(context: Mapping[str, object]) -> str | tzinfo:
    """The DAG's timezone from a context, UTC when the context has no DAG or zone."""
    zone = getattr(context.get("dag"), "timezone", None)
    return zone if isinstance(zone, (str, tzinfo)) else "UTC"
