"""Delivering one rendered alert under its policy: JobID, quiet hours, storm control,
bounded retries with an ``Api/State`` check before every resend, metrics and one clear
ERROR line when the alert is lost.

Airflow never retries a callback, so a passing eCall failure is retried here, within
:class:`~airflow_provider_ecall.notifications._policy.AlertPolicy`'s bounds. Every resend
carries the first attempt's JobID and is sent only if ``Api/State`` does not know that job:
an attempt whose answer was lost is never repeated.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from airflow_provider_ecall.client.errors import EcallError
from airflow_provider_ecall.notifications._policy import (
    CLOCK,
    AlertPolicy,
    alert_job_id,
    recipients,
    storm_job_id,
)
from airflow_provider_ecall.notifications.hostlock import host_lock
from airflow_provider_ecall.utils.compat import stats
from airflow_provider_ecall.utils.context import context_timezone
from airflow_provider_ecall.utils.fields import BY_KIND
from airflow_provider_ecall.utils.masking import mask_recipients

if TYPE_CHECKING:
    from airflow_provider_ecall.client.messages import Kind
    from airflow_provider_ecall.client.results import SendResult
    from airflow_provider_ecall.hooks.ecall import EcallHook

#: What to check, by error class, in the ERROR line of a lost alert.
_CHECK: Final = {
    "EcallAuthError": "the login and password of connection {conn}",
    "EcallCreditError": "the eCall account's credit",
    "EcallValidationError": "the notifier's fields and connection {conn}",
    "EcallRequestError": "the notifier's fields (eCall refused them)",
    "EcallConnectionError": "the network path to {url} (proxy, DNS, firewall) or set the "
    "connection extra fallback_url",
    "EcallTlsError": "the TLS certificate of {url} and the CA bundle",
}
_CHECK_PASSING: Final = "eCall's service status; more attempts with max_attempts / max_retry_time"


class Log(Protocol):
    """The logger methods used here (a notifier's ``log``: stdlib or structlog)."""

    def info(self, msg: str, /, *args: object) -> object: ...
    def warning(self, msg: str, /, *args: object) -> object: ...
    def error(self, msg: str, /, *args: object) -> object: ...


@dataclass(frozen=True)
class Alert:
    """One rendered alert ready to deliver.

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param fields: its message fields (``message`` already made sendable).
    :param dedup_key: the rendered storm key, or None.
    :param conn_id: the connection (for the ERROR line).
    """

    kind: Kind
    fields: Mapping[str, object]
    dedup_key: str | None
    conn_id: str


#: Positions in :func:`alert_facts`.
_TASK_ID: Final = 1
_TRY_NUMBER: Final = 4


def alert_facts(context: Mapping[str, object]) -> list[str]:
    """What an alert is about, for its JobID: DAG, task, run, map index, try, state, and
    ``"dag"`` or ``"task"`` (which callback level it comes from)."""
    from airflow_provider_ecall.notifications._alerts import facts

    alert = facts(context)
    map_index = getattr(context.get("ti"), "map_index", None)
    return [
        alert.dag_id,
        alert.task_id,
        alert.run_id,
        "" if map_index is None else str(map_index),
        alert.try_number,
        alert.state,
        "dag" if alert.dag_level else "task",
    ]


def metric(name: str, kind: str, count: int = 1) -> None:
    """Count ``ecall.alert.<name>`` in Airflow's ``Stats`` (tag ``kind``); never raises."""
    try:
        stats().incr(f"ecall.alert.{name}", count, tags={"kind": kind})
    except Exception:  # metrics must never cost an alert
        logging.getLogger(__name__).debug("Stats.incr(ecall.alert.%s) failed", name)


def timing(name: str, kind: str, seconds: float) -> None:
    """Time ``ecall.alert.<name>`` in Airflow's ``Stats`` (tag ``kind``); never raises."""
    try:
        stats().timing(f"ecall.alert.{name}", timedelta(seconds=seconds), tags={"kind": kind})
    except Exception:  # metrics must never cost an alert
        logging.getLogger(__name__).debug("Stats.timing(ecall.alert.%s) failed", name)


def _identity(
    alert: Alert, policy: AlertPolicy, facts: list[str], held_until: datetime | None
) -> tuple[str, bool]:
    """The alert's JobID, and whether it is a storm JobID (checked before the first send).

    :param held_until: the end of the quiet hours the alert is held for, or None.
    """
    to = recipients(alert.fields.get("address"))
    if alert.dedup_key:
        job_id = storm_job_id(
            alert.dedup_key,
            policy.dedup_window,
            alert.kind,
            to,
            CLOCK.now(),
            urgent=policy.urgent,
            held_until=held_until,
        )
        return job_id, True
    given = alert.fields.get("job_id")
    return (str(given) if given else alert_job_id(facts, alert.kind, to)), False


def _names_one_try(alert: Alert, facts: list[str]) -> bool:
    """Whether the alert's JobID is derived from one task try (a task callback's alert, or
    a DAG-level one whose context carries the failed task instance).

    Airflow can run one try's callback twice: a task whose worker died is failed by the
    scheduler's heartbeat check and again by the executor's event, and the DAG processor
    runs both requests (seen in ``make e2e``; apache/airflow#42553). Such an alert asks
    ``Api/State`` before its first send too. Without a try the facts cannot tell a cleared
    run's second failure from the first, so those alerts do not ask.
    """
    task_id, try_number = facts[_TASK_ID], facts[_TRY_NUMBER]
    return not alert.fields.get("job_id") and bool(task_id and try_number)


def _quiet_send_date(
    policy: AlertPolicy, context: Mapping[str, object], log: Log
) -> datetime | None:
    """The end of the quiet hours when now falls inside them (and the alert is not urgent)."""
    quiet = policy.quiet_hours
    if quiet is None or policy.urgent:
        return None
    import pendulum

    zone = quiet.timezone or context_timezone(context)
    release = quiet.release(
        CLOCK.now().astimezone(pendulum.timezone(zone) if isinstance(zone, str) else zone)
    )
    if release is not None:
        log.info("eCall alert: quiet hours; scheduled for %s", release.isoformat())
    return release


def _attempts(
    send: Callable[[bool], SendResult],
    policy: AlertPolicy,
    *,
    check_first: bool,
    alert: Alert,
    log: Log,
) -> tuple[SendResult | EcallError, int]:
    """Send, and resend passing failures within the policy's bounds; every resend (and a
    storm alert's first send) asks ``Api/State`` first.

    :return: the result, or the last failure when the bounds are spent or it cannot pass,
        and the number of attempts it took.
    """
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            return send(check_first or attempt > 1), attempt
        except EcallError as exc:
            wait = policy.backoff(attempt)
            spent = time.monotonic() - started
            budget = policy.max_retry_time.total_seconds()
            if not exc.retryable or attempt >= policy.max_attempts or spent + wait > budget:
                return exc, attempt
            log.warning(
                "eCall %s alert: attempt %d failed (%s); asking eCall about the job, then "
                "trying again in %.0f s",
                alert.kind,
                attempt,
                type(exc).__name__,
                wait,
            )
            metric("retries", alert.kind)
            time.sleep(wait)
            attempt += 1


def deliver(
    send: Callable[[dict[str, object], bool], SendResult],
    hook: EcallHook,
    alert: Alert,
    policy: AlertPolicy,
    context: Mapping[str, object],
    *,
    facts: list[str],
    log: Log,
) -> SendResult:
    """Deliver an alert: mask its numbers, apply quiet hours and storm control, send with
    bounded retries, count the outcome.

    :param send: sends the fields with the hook method of the kind; the flag asks
        ``Api/State`` first (``skip_existing``).
    :param hook: the connection's hook (its base URL goes into the ERROR line).
    :param facts: what the alert is about, for its JobID (see
        :func:`~airflow_provider_ecall.notifications._policy.alert_job_id`).
    :raises EcallError: the alert was not sent (after one ERROR line).
    """
    if policy.mask_recipients:
        mask_recipients(*(alert.fields.get(name) for name in BY_KIND[alert.kind].recipients))
    held_until = None
    if alert.fields.get("send_date") is None:
        held_until = _quiet_send_date(policy, context, log)
        if held_until is not None:
            metric("quiet_hours_delayed", alert.kind)
    job_id, storm = _identity(alert, policy, facts, held_until)
    check_first = storm or _names_one_try(alert, facts)
    fields = dict(alert.fields, job_id=job_id)
    if held_until is not None:
        fields["send_date"] = held_until

    started = time.monotonic()
    lock = host_lock(job_id, timeout=policy.max_retry_time.total_seconds() + 30)
    with lock if storm else contextlib.nullcontext(False):
        outcome, attempts = _attempts(
            lambda check: send(fields, check),
            policy,
            check_first=check_first,
            alert=alert,
            log=log,
        )
    spent = time.monotonic() - started
    timing("duration", alert.kind, spent)
    if isinstance(outcome, EcallError):
        _log_lost(alert, outcome, attempts, job_id, spent, hook, log)
        raise outcome
    _count_outcome(outcome, attempts, storm, alert, log)
    return outcome


def _count_outcome(result: SendResult, attempts: int, storm: bool, alert: Alert, log: Log) -> None:
    if result.skipped and attempts == 1:
        metric("duplicates_skipped", alert.kind)
        if storm:
            log.info(
                "eCall %s alert not sent: an alert for dedup key %r went out in this window "
                "already (job %s)",
                alert.kind,
                alert.dedup_key,
                result.job_id,
            )
        else:
            log.info(
                "eCall %s alert not sent: this try's alert went out already (job %s); "
                "Airflow ran the callback again",
                alert.kind,
                result.job_id,
            )
        return
    metric("sent", alert.kind)
    log.info(
        "eCall %s alert sent: job %s, %d recipient(s), %d attempt(s)%s",
        alert.kind,
        result.job_id,
        result.recipient_count,
        attempts,
        ", an earlier attempt had arrived" if result.skipped else "",
    )


def _log_lost(
    alert: Alert,
    exc: EcallError,
    attempts: int,
    job_id: str,
    seconds: float,
    hook: EcallHook,
    log: Log,
) -> None:
    """The one ERROR line of a lost alert: what, why, and what to check."""
    metric("failed", alert.kind)
    try:
        url = hook.get_client().base_url
    except EcallError:
        url = "the connection's host"
    hint = _CHECK.get(type(exc).__name__, _CHECK_PASSING)
    log.error(
        "eCall %s alert NOT SENT after %d attempt(s) in %.1f s (job %s): %s (HTTP %s, "
        "result code %s): %s — check %s",
        alert.kind,
        attempts,
        seconds,
        job_id,
        type(exc).__name__,
        exc.http_status,
        exc.result_code,
        exc,
        hint.format(conn=repr(alert.conn_id), url=url),
    )
