"""The terms of a delivery wait, cheap to import (DAG files import it on every parse): the
defaults, the checks of a wait's arguments, its deadline, and the event the callback
receiver fires for a waiting trigger. No Airflow import, no client import at module level.

Every surface that waits for delivery reads these — the delivery sensor, the send
operators' ``wait_for_delivery``, the delivery trigger and the callback receiver — so a
default or a rule is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from airflow_provider_ecall.client.delivery import Require

#: How long a wait lasts unless told otherwise.
DEFAULT_TIMEOUT: Final = timedelta(hours=1)
#: Seconds between status queries unless told otherwise.
DEFAULT_POLL_INTERVAL: Final = 60.0
#: Where a waiting trigger is stored (its serialized class path).
TRIGGER_CLASSPATH: Final = "airflow_provider_ecall.triggers.ecall.EcallDeliveryTrigger"
#: The ``status`` of the event the callback receiver fires when eCall calls back about a
#: job a trigger waits for: a hint to look now, not a verdict (see :func:`callback_event`).
REPORTED: Final = "reported"


def check_require(value: object) -> Require:
    """Refuse a ``require`` other than ``"delivered"`` / ``"final"`` (at DAG parse)."""
    if value not in ("delivered", "final"):
        raise ValueError(f"require must be 'delivered' or 'final', not {value!r}")
    return value


def check_poll_interval(name: str, value: object) -> float:
    """A poll interval in seconds, above 0.

    :param name: the argument's name, for the error.
    :raises ValueError: not a number of seconds above 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be seconds above 0")
    return float(value)


def check_timeout(name: str, value: object) -> timedelta | float:
    """A timeout: a ``timedelta`` or seconds, above 0.

    :param name: the argument's name, for the error.
    :raises ValueError: neither, or not above 0.
    """
    span = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(span, bool) or not isinstance(span, (int, float)) or span <= 0:
        raise ValueError(f"{name} must be a timedelta or seconds above 0")
    return value  # type: ignore[return-value]


def seconds(timeout: timedelta | float | None) -> float:
    """A timeout in seconds (None: 0)."""
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout or 0)


def deadline_after(timeout: timedelta | float | None) -> str | None:
    """Now plus ``timeout``, ISO 8601 (None: no deadline)."""
    if timeout is None:
        return None
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds(timeout))).isoformat()


def callback_event(kwargs: Mapping[str, Any], job_id: str) -> dict[str, Any] | None:
    """The event the callback receiver fires for a waiting trigger when eCall called back
    about ``job_id`` (None: that trigger does not wait for the job).

    The payload carries the trigger's own kwargs, so the resumed task can check
    ``Api/State`` once and, if the jobs are not final yet, wait on the same trigger again
    with the same deadline (:func:`airflow_provider_ecall.delivery.wait.resume`). It holds no
    number: task instances store their event.

    :param kwargs: a waiting trigger's kwargs (its ``serialize()``).
    :param job_id: the JobID the callback named.
    """
    if job_id not in {str(job) for job in kwargs.get("job_ids") or ()}:
        return None
    return {
        "status": REPORTED,
        "trigger": dict(kwargs),
        "message": f"eCall called back about job {job_id}",
    }
