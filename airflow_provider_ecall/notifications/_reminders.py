"""The notifier's side of reminders and escalation: the options checked when the DAG file is
parsed, and the sealed plan pushed as an XCom for the api-server (which sends; see
:mod:`airflow_provider_ecall.plugins.reminders`)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_ecall.approvals.plan import MAX_REMINDERS, MIN_INTERVAL, ReminderPlan
from airflow_provider_ecall.utils.compat import conf

if TYPE_CHECKING:
    from airflow_provider_ecall.approvals.texts import ApprovalRequest

Interval = timedelta | float | int | None


def seconds(name: str, value: Interval) -> float | None:
    """An interval option in seconds (None stays None).

    :raises ValueError: not a timedelta or number, or shorter than the minimum.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (timedelta, int, float)):
        raise ValueError(f"{name} must be a timedelta or a number of seconds")
    found = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not found >= MIN_INTERVAL:
        raise ValueError(f"{name} must be at least {MIN_INTERVAL:g} seconds")
    return found


def check_max_reminders(value: object) -> int:
    """``max_reminders`` checked.

    :raises ValueError: not a whole number from 1 to :data:`MAX_REMINDERS`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REMINDERS:
        raise ValueError(f"max_reminders must be a whole number from 1 to {MAX_REMINDERS}")
    return value


def sealing_keys() -> tuple[str, ...]:
    """The configured signing keys, which seal the plan.

    :raises ValueError: none configured (the message names the setting), or one too short.
    """
    from airflow_provider_ecall.plugins.signing import read_keys

    keys = read_keys(conf.get("ecall", "callback_signing_keys", fallback="") or "")
    if not keys:
        raise ValueError(
            "remind_every and escalate_after need [ecall] callback_signing_keys: its key "
            "seals the recipients the api-server reminds"
        )
    return keys


def _recipients(field: str, value: object) -> tuple[str, ...]:
    from airflow_provider_ecall.client.validation import split_list

    return () if value in (None, "", [], ()) else split_list(field, value)


def _timeout(task: object) -> float | None:
    """The request's timeout in seconds: ``response_timeout``, or ``execution_timeout`` on
    standard providers without it."""
    for name in ("response_timeout", "execution_timeout"):
        found = getattr(task, name, None)
        if isinstance(found, timedelta):
            return found.total_seconds()
    return None


def sealed_plan(
    notifier: Any, task: object, request: ApprovalRequest, *, asked_at: float | None = None
) -> str:
    """The notifier's reminder plan for ``request``, sealed (see
    :mod:`~airflow_provider_ecall.approvals.plan`).

    :param notifier: the rendered ``EcallHITLNotifier``.
    :param task: the human-in-the-loop task (for its timeout).
    :param request: what the request SMS said.
    :param asked_at: when it was asked (default: now).
    """
    from airflow_provider_ecall.approvals.plan import seal_plan

    now = time.time() if asked_at is None else asked_at
    timeout = _timeout(task)
    sms_to = _recipients("address", notifier.address)
    voice_to = _recipients("escalate_to", notifier.escalate_to) or sms_to
    plan = ReminderPlan(
        notifier.ecall_conn_id,
        request.subject,
        tuple(request.options),
        request.multiple,
        request.link,
        sms_to if notifier.remind_every is not None else (),
        voice_to if notifier.escalate_after is not None else (),
        asked_at=now,
        remind_every=notifier.remind_every,
        escalate_after=notifier.escalate_after,
        until=None if timeout is None else now + timeout,
        max_reminders=notifier.max_reminders,
        max_pages=notifier.max_pages,
    )
    return seal_plan(plan, *sealing_keys())
