"""Delivery waiting, the one owner: what the delivery sensor (poke, reschedule, deferred),
the send operators' ``wait_for_delivery`` (in the worker, deferred) and a resume after the
callback receiver's hint all do the same way.

- :func:`job_ids_from`: the JobIDs in what a template or XCom gives;
- :func:`query_once`: THE status query of a wait in a worker, planned as the triggerer's
  shared poller plans its rounds (:class:`~airflow_provider_ecall.client.planner.QueryPlanner`:
  windows eCall answers whole, JobIDs where cheaper; one planner per wait, so it learns
  from poll to poll) — a passing failure (5xx, timeout) is logged and the wait goes on, a
  refusal fails the task; the trigger's shared poller treats failures the same way (it
  backs off);
- :func:`make_trigger`: THE trigger a task defers to;
- :func:`wait_in_worker`, :func:`finish`, :func:`resume`: the loop, the end and the
  resumption of a wait.

Defaults and argument checks are in :mod:`airflow_provider_ecall.delivery.terms`. The
trigger module is imported only when a task defers (it costs ~25 ms of Airflow import that
a DAG parse should not pay).
"""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall.client.delivery import DeliveryReport
from airflow_provider_ecall.delivery.terms import REPORTED, deadline_after, seconds
from airflow_provider_ecall.utils.compat import AirflowFailException, AirflowSensorTimeout

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient
    from airflow_provider_ecall.client.delivery import Require
    from airflow_provider_ecall.client.planner import QueryPlanner
    from airflow_provider_ecall.client.results import JsonValue
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

log = logging.getLogger(__name__)

_SEPARATORS: Final = str.maketrans({",": " ", ";": " "})
#: Failed recipients named in an error message before "(+N more)".
_SHOWN: Final = 20


def job_ids_from(value: object, field: str = "job_id") -> list[str]:
    """The JobIDs in a rendered ``job_id``: one id, ``,``/``;``-separated ids, a list, the
    send operator's XCom dict (``job_ids``), a list of those (a mapped send), or any of these
    rendered as text.

    :param field: the argument ``value`` came from, for the error.
    :raises AirflowFailException: no JobID found.
    """
    collected: list[str] = []
    _collect(value, collected)
    unique = list(dict.fromkeys(collected))
    if not unique:
        raise AirflowFailException(
            f"{field}: no eCall JobID found in {type(value).__name__} value (give an id, a "
            "list of ids or the send task's XCom)"
        )
    return unique


def _collect(value: object, into: list[str]) -> None:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{(" and text:
            parsed = _parse_literal(text)
            if parsed is not None:
                _collect(parsed, into)
                return
        into.extend(text.translate(_SEPARATORS).split())
    elif isinstance(value, Mapping):
        _collect(value.get("job_ids") or value.get("job_id"), into)
    elif isinstance(value, (list, tuple, set, frozenset)) or _is_sequence(value):
        for item in value:  # type: ignore[attr-defined]
            _collect(item, into)


def _is_sequence(value: object) -> bool:
    """Airflow's lazy XCom sequences (a mapped task's pulled results) are iterable."""
    return hasattr(value, "__iter__") and hasattr(value, "__len__") and not isinstance(value, bytes)


def _parse_literal(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def sent_after_of(context: Mapping[str, object]) -> str | None:
    """The start of the DAG run (no job of this run was sent before it), ISO 8601."""
    start = getattr(context.get("dag_run"), "start_date", None)
    return start.isoformat() if isinstance(start, datetime) else None


def make_trigger(
    *,
    job_ids: list[str],
    ecall_conn_id: str,
    require: Require,
    poll_interval: float,
    timeout: timedelta | float | None,
    sent_after: str | None,
) -> EcallDeliveryTrigger:
    """The trigger a task defers to (the sensor's and the operators' alike).

    :param timeout: from now; becomes the trigger's ``deadline``.
    """
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

    return EcallDeliveryTrigger(
        job_ids=job_ids,
        ecall_conn_id=ecall_conn_id,
        require=require,
        poll_interval=poll_interval,
        deadline=deadline_after(timeout),
        sent_after=sent_after,
    )


def finish(status: str, report: DeliveryReport, message: str = "") -> dict[str, JsonValue]:
    """End a wait: the outcome for XCom, or the error that fails the task.

    :param status: ``delivered`` / ``final`` (success), ``failed``, ``timeout`` or ``error``.
    :param report: the last report.
    :param message: the trigger's words (for ``error``).
    :raises AirflowFailException: delivery failed, or the status query kept failing.
    :raises AirflowSensorTimeout: the deadline passed first.
    """
    if status in ("delivered", "final"):
        return {"status": status, **report.to_dict()}
    if status == "failed":
        raise AirflowFailException(
            f"eCall delivery failed for {len(report.of('failed'))} recipient(s): " + _listed(report)
        )
    if status == "timeout":
        raise AirflowSensorTimeout(
            f"eCall delivery not final in time ({report.summary()}): " + _listed(report, True)
        )
    raise AirflowFailException(f"eCall delivery could not be checked: {message}")


def finish_event(event: Mapping[str, object] | None) -> dict[str, JsonValue]:
    """:func:`finish` for a trigger event's payload."""
    payload = event or {}
    report = payload.get("report")
    rebuilt = DeliveryReport.from_dict(report if isinstance(report, Mapping) else {})
    return finish(str(payload.get("status")), rebuilt, str(payload.get("message", "")))


def _listed(report: DeliveryReport, unfinished: bool = False) -> str:
    rows = [r for r in report.recipients if r.outcome == "failed" or unfinished]
    if unfinished:
        rows = [r for r in rows if r.outcome not in ("delivered",)]
    lines = [r.describe() for r in rows[:_SHOWN]]
    if len(rows) > _SHOWN:
        lines.append(f"(+{len(rows) - _SHOWN} more)")
    lines.extend(f"job {job}: no status from eCall" for job in report.missing[:_SHOWN])
    return "; ".join(lines) or "no recipients reported"


def wait_in_worker(
    client: EcallClient,
    job_ids: list[str],
    *,
    sent_after: str | None,
    poll_interval: float,
    timeout: timedelta | float | None,
) -> dict[str, JsonValue]:
    """Poll ``Api/State`` in this process until the jobs are final (not deferrable).

    Passing failures of a query are logged and the wait goes on until the deadline.

    :return: :func:`finish`'s outcome.
    """
    import time

    from airflow_provider_ecall.client.planner import QueryPlanner

    limit = None if timeout is None else time.monotonic() + seconds(timeout)
    report = DeliveryReport.build(job_ids, {})
    planner = QueryPlanner()
    while True:
        report = query_once(client, job_ids, sent_after, planner) or report
        verdict = report.verdict("delivered")
        if verdict != "waiting":
            return finish(verdict, report)
        if limit is not None and time.monotonic() >= limit:
            return finish("timeout", report)
        log.info("eCall delivery: %s", report.summary())
        left = poll_interval if limit is None else min(poll_interval, limit - time.monotonic())
        time.sleep(max(left, 0.0))


def query_once(
    client: EcallClient,
    job_ids: list[str],
    sent_after: str | None,
    planner: QueryPlanner | None = None,
    *,
    now: datetime | None = None,
) -> DeliveryReport | None:
    """One round of ``Api/State`` queries for the jobs; None when it failed in passing
    (logged).

    :param planner: the wait's planner, kept from poll to poll (None: a fresh one, which
        knows only these jobs).
    :param now: the current time (aware; for tests); default now.
    :raises AirflowFailException: the query failed for good (refused credentials, say).
    """
    from datetime import timezone

    from airflow_provider_ecall.client.errors import EcallError
    from airflow_provider_ecall.client.planner import QueryPlanner, Want
    from airflow_provider_ecall.client.validation import send_date

    since = send_date(sent_after, field="sent_after") if sent_after else None
    now = now or datetime.now(timezone.utc)
    wants = [Want(job, since, now) for job in dict.fromkeys(job_ids)]
    try:
        records = (planner or QueryPlanner()).run(client, wants, now).records
    except EcallError as exc:
        if not exc.retryable:
            raise AirflowFailException(f"eCall delivery could not be checked: {exc}") from exc
        log.warning("eCall status query failed (%s); trying again", type(exc).__name__)
        return None
    return DeliveryReport.build(job_ids, records)


def resume(
    event: Mapping[str, object] | None, client: Callable[[], EcallClient]
) -> dict[str, JsonValue] | EcallDeliveryTrigger:
    """Where a deferred wait goes when its task resumes: the outcome, or a trigger to wait
    on again.

    The trigger's own events end the wait (:func:`finish_event`). An event the callback
    receiver fired (``status`` ``"reported"``: eCall called back about one of the jobs) is
    a hint, not a verdict — callbacks are unsigned, and one recipient's report says nothing
    of the others — so one ``Api/State`` query decides: the outcome when the jobs are
    final, else the same trigger again, with the same deadline.

    :param event: the payload the task resumed with.
    :param client: makes the client for the status query (only a callback's event needs it).
    :raises AirflowFailException: as :func:`finish`, or a malformed callback event.
    """
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

    payload = event or {}
    if payload.get("status") != REPORTED:
        return finish_event(payload)
    kwargs = payload.get("trigger")
    if not isinstance(kwargs, Mapping):
        raise AirflowFailException("eCall delivery: a callback's event came without its wait")
    trigger = EcallDeliveryTrigger(**{str(key): value for key, value in kwargs.items()})
    log.info("eCall delivery: %s; checking Api/State now", payload.get("message"))
    report = query_once(client(), trigger.job_ids, trigger.sent_after)
    if report is not None and (verdict := report.verdict(trigger.require)) != "waiting":
        return finish(verdict, report)
    left = trigger.seconds_left()
    if left is not None and left <= 0:
        return finish("timeout", report or DeliveryReport.build(trigger.job_ids, {}))
    log.info("eCall delivery: %s; waiting on", report.summary() if report else "no answer")
    return trigger
