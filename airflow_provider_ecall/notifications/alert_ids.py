"""Alert JobIDs that say which failure they are about (no Airflow import).

An alert's JobID is ``afa-`` + 10 hex characters for the DAG run + 10 for the subject (one
task instance try, or the DAG run as a whole) + ``-`` + 12 hex characters for the rest
(state, kind, recipients, and a DAG-level alert's last task): 37 characters, room for a
batch suffix within eCall's 50.

- Every resend of one alert carries the same JobID; another task, run, map index, try,
  state, kind or recipient set gives another (the last part covers every fact).
- Whoever knows a failure (the sweeper of the watchdog, from Airflow's REST API) can compute
  its :meth:`Failure.prefix` without knowing who was paged: any JobID in eCall's records that
  starts with it is an alert about that failure. That is how the sweeper leaves alone what a
  notifier already paged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

ALERT_JOB_PREFIX: Final = "afa-"
_RUN_HEX: Final = 10
_SUBJECT_HEX: Final = 10
_VARIANT_HEX: Final = 12
#: The subject part of a DAG-level alert (no task instance of its own).
_DAG_LEVEL: Final = ("dag-level",)


def _hex(parts: Sequence[str], size: int) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:size]


@dataclass(frozen=True)
class Failure:
    """What an alert is about: a task instance try, or (``task_id`` None) a DAG run.

    :param dag_id: the DAG.
    :param run_id: the DAG run.
    :param task_id: the task, or None for the DAG run as a whole.
    :param map_index: the map index as Airflow gives it (``-1`` unmapped), as a string.
    :param try_number: the try, as a string ("" when unknown).
    """

    dag_id: str
    run_id: str
    task_id: str | None = None
    map_index: str = "-1"
    try_number: str = ""

    def prefix(self) -> str:
        """The start of every alert JobID about this failure (24 characters)."""
        run = _hex([self.dag_id, self.run_id], _RUN_HEX)
        if self.task_id is None:
            return ALERT_JOB_PREFIX + run + _hex(_DAG_LEVEL, _SUBJECT_HEX)
        subject = _hex(["task", self.task_id, self.map_index, self.try_number], _SUBJECT_HEX)
        return ALERT_JOB_PREFIX + run + subject

    def job_id(self, details: Sequence[str], kind: str, to: Sequence[str]) -> str:
        """The JobID of one alert about this failure.

        :param details: every other fact the alert is about (state, a DAG alert's last task).
        :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
        :param to: the sorted recipients.
        """
        return f"{self.prefix()}-{_hex([*details, kind, *to], _VARIANT_HEX)}"


def failure_of(facts: Sequence[str], *, dag_level: bool) -> Failure:
    """The failure a notifier's alert facts name.

    :param facts: DAG id, task id, run id, map index, try number, state (or reason).
    :param dag_level: the alert comes from a DAG-level callback.
    """
    dag_id, task_id, run_id, map_index, try_number = facts[:5]
    if dag_level:
        return Failure(dag_id=dag_id, run_id=run_id)
    return Failure(dag_id, run_id, task_id, map_index or "-1", try_number)


def prefixes_of(failure: Failure) -> tuple[str, ...]:
    """The JobID prefixes whose alerts cover ``failure``: its own, and for a task failure
    also its run's DAG-level alerts (someone was paged about that run)."""
    own = failure.prefix()
    if failure.task_id is None:
        return (own,)
    return (own, Failure(failure.dag_id, failure.run_id).prefix())
