"""What the delivery sensor and the send operators' ``wait_for_delivery`` share: reading job
ids from what a template or XCom gives, the trigger to defer to, and the end of a wait.

The trigger module is imported only when a task defers (it costs ~25 ms of Airflow import
that a DAG parse should not pay).
"""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall._compat import AirflowFailException, AirflowSensorTimeout
from airflow_provider_ecall.client.delivery import REQUIRE_VALUES, DeliveryReport

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient
    from airflow_provider_ecall.client.delivery import Require
    from airflow_provider_ecall.client.results import JsonValue
    from airflow_provider_ecall.triggers._delivery import EcallDeliveryTrigger

log = logging.getLogger(__name__)

_SEPARATORS: Final = str.maketrans({",": " ", ";": " "})
#: Failed recipients named in an error message before "(+N more)".
_SHOWN: Final = 20


def check_require(value: object) -> Require:
    """Refuse a ``require`` other than ``"delivered"`` / ``"final"`` (at DAG parse)."""
    if value not in REQUIRE_VALUES:
        raise ValueError(f"require must be 'delivered' or 'final', not {value!r}")
    return value


def job_ids_from(value: object) -> list[str]:
    """The JobIDs in a rendered ``job_id``: one id, ``,``/``;``-separated ids, a list, the
    send operator's XCom dict (``job_ids``), a list of those (a mapped send), or any of these
    rendered as text.

    :raises AirflowFailException: no JobID found.
    """
    collected: list[str] = []
    _collect(value, collected)
    unique = list(dict.fromkeys(collected))
    if not unique:
        raise AirflowFailException(
            f"job_id: no eCall JobID found in {type(value).__name__} value (give an id, a "
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


def deadline_after(timeout: timedelta | float | None) -> str | None:
    """Now plus ``timeout``, ISO 8601 (None: no deadline)."""
    if timeout is None:
        return None
    return (datetime.now(timezone.utc) + timedelta(seconds=_seconds(timeout))).isoformat()


def make_trigger(
    *,
    job_ids: list[str],
    ecall_conn_id: str,
    require: Require,
    poll_interval: float,
    timeout: timedelta | float | None,
    sent_after: str | None,
) -> EcallDeliveryTrigger:
    """The trigger a task defers to."""
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

    limit = None if timeout is None else time.monotonic() + _seconds(timeout)
    report = DeliveryReport.build(job_ids, {})
    probe = 0
    while True:
        report = query_once(client, job_ids, sent_after, probe) or report
        probe += 1
        verdict = report.verdict("delivered")
        if verdict != "waiting":
            return finish(verdict, report)
        if limit is not None and time.monotonic() >= limit:
            return finish("timeout", report)
        log.info("eCall delivery: %s", report.summary())
        left = poll_interval if limit is None else min(poll_interval, limit - time.monotonic())
        time.sleep(max(left, 0.0))


def query_once(
    client: EcallClient, job_ids: list[str], sent_after: str | None, probe: int = 0
) -> DeliveryReport | None:
    """One ``Api/State`` query for the jobs; None when it failed in passing (logged).

    :raises AirflowFailException: the query failed for good (refused credentials, say).
    """
    from airflow_provider_ecall.client.delivery import fetch_statuses
    from airflow_provider_ecall.client.errors import EcallError
    from airflow_provider_ecall.client.validation import send_date

    since = send_date(sent_after, field="sent_after") if sent_after else None
    try:
        records = fetch_statuses(client, job_ids, sent_after=since, probe=probe)
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
    from airflow_provider_ecall.triggers._delivery import REPORTED, EcallDeliveryTrigger

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


def _seconds(timeout: timedelta | float | None) -> float:
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout or 0)
