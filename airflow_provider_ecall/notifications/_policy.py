"""Alert policy values: retry bounds, alert and storm JobIDs, quiet hours (no Airflow import).

Nothing here keeps state: the JobIDs are derived from what an alert is about, and eCall's
``Api/State`` answers whether such a job exists. A notifier checks its options once, when
the DAG file is parsed, so a typo fails the parse and not the alert at 3 a.m.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Final, TypedDict

from airflow_provider_ecall.client.errors import EcallValidationError

#: The prefix of storm JobIDs (+ 32 hex characters = 36, room for a batch suffix); alert
#: JobIDs are built in :mod:`~airflow_provider_ecall.notifications.alert_ids`.
STORM_JOB_PREFIX: Final = "afd-"
_HEX: Final = 32
_WINDOW: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class AlertOptions(TypedDict, total=False):
    """The alert policy keyword arguments every notifier takes (see :class:`AlertPolicy`)."""

    dedup_key: str | None
    dedup_window: timedelta | None
    quiet_hours: str | None
    quiet_hours_timezone: str | None
    urgent: bool
    max_attempts: int
    max_retry_time: timedelta | float
    mask_recipients: bool


ALERT_OPTIONS: Final = frozenset(AlertOptions.__annotations__)


@dataclass(frozen=True)
class QuietHours:
    """A daily window in which non-urgent alerts wait (it may span midnight).

    :param start: when the window opens (local time).
    :param end: when it closes; an alert inside is scheduled for this time.
    :param timezone: the IANA zone of both times, or None for the DAG's zone.
    """

    start: time
    end: time
    timezone: str | None = None

    def release(self, moment: datetime) -> datetime | None:
        """The end of the window ``moment`` falls in, or None when it falls outside.

        :param moment: an aware datetime in the zone of the window.
        """
        clock = moment.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= clock < self.end
        else:
            inside = clock >= self.start or clock < self.end
        if not inside:
            return None
        day = moment.date() if clock < self.end else moment.date() + timedelta(days=1)
        return _local(moment, day, self.end)


def _local(moment: datetime, day: object, at: time) -> datetime:
    """``day`` at ``at`` in the zone of ``moment`` (pendulum resolves DST gaps forward)."""
    import pendulum

    zone = pendulum.instance(moment).timezone
    return pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, tz=zone)  # type: ignore[attr-defined]


def parse_quiet_hours(value: str, timezone: str | None) -> QuietHours:
    """Read ``"22:00-07:00"`` (24-hour clock) into :class:`QuietHours`.

    :raises EcallValidationError: the window or the zone is malformed.
    """
    match = _WINDOW.match(value) if isinstance(value, str) else None
    times: list[time] = []
    if match is not None:
        hours_minutes = [int(part) for part in match.groups()]
        pairs = zip(hours_minutes[::2], hours_minutes[1::2], strict=True)
        times = [time(h, m) for h, m in pairs if h < 24 and m < 60]
    if len(times) != 2:
        raise EcallValidationError(
            "quiet_hours", "must be 'HH:MM-HH:MM' on a 24-hour clock, e.g. '22:00-07:00'"
        )
    if times[0] == times[1]:
        raise EcallValidationError("quiet_hours", "must not start and end at the same time")
    if timezone is not None:
        import pendulum

        try:
            pendulum.timezone(timezone)
        except Exception:
            raise EcallValidationError(
                "quiet_hours_timezone", "must be an IANA time zone name, e.g. 'Europe/Zurich'"
            ) from None
    return QuietHours(times[0], times[1], timezone)


@dataclass(frozen=True)
class AlertPolicy:
    """How a notifier delivers: bounded retries, storm control, quiet hours, privacy.

    :param max_attempts: sends of one alert at most (the first included), 1 to 10.
    :param max_retry_time: no new attempt starts after this much time since the first.
    :param dedup_window: with a ``dedup_key``: at most one alert per key per window.
    :param quiet_hours: the window non-urgent alerts wait out, or None.
    :param urgent: ignore the quiet hours.
    :param mask_recipients: register each resolved number with Airflow's secret masker.
    """

    max_attempts: int = 3
    max_retry_time: timedelta = timedelta(seconds=30)
    dedup_window: timedelta = timedelta(minutes=30)
    quiet_hours: QuietHours | None = None
    urgent: bool = False
    mask_recipients: bool = True

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1, 2, 4, … capped at 10)."""
        return float(min(2 ** (attempt - 1), 10))


def _seconds(name: str, value: object) -> timedelta:
    if isinstance(value, timedelta):
        span = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        span = timedelta(seconds=value)
    else:
        raise EcallValidationError(name, "must be a timedelta (or a number of seconds)")
    if span <= timedelta(0):
        raise EcallValidationError(name, "must be longer than zero")
    return span


def policy_from(options: AlertOptions) -> AlertPolicy:
    """Check a notifier's policy options and build its :class:`AlertPolicy`.

    :raises EcallValidationError: an option breaks its rule (named in the error).
    """
    attempts = options.get("max_attempts", AlertPolicy.max_attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 10:
        raise EcallValidationError("max_attempts", "must be a whole number from 1 to 10")
    retry_time = _seconds("max_retry_time", options.get("max_retry_time", timedelta(seconds=30)))
    window = options.get("dedup_window")
    if window is not None and not options.get("dedup_key"):
        raise EcallValidationError("dedup_window", "needs a dedup_key to count alerts by")
    quiet = options.get("quiet_hours")
    zone = options.get("quiet_hours_timezone")
    if zone is not None and quiet is None:
        raise EcallValidationError("quiet_hours_timezone", "needs quiet_hours")
    return AlertPolicy(
        max_attempts=attempts,
        max_retry_time=retry_time,
        dedup_window=_seconds(
            "dedup_window", AlertPolicy.dedup_window if window is None else window
        ),
        quiet_hours=None if quiet is None else parse_quiet_hours(quiet, zone),
        urgent=bool(options.get("urgent", False)),
        mask_recipients=bool(options.get("mask_recipients", True)),
    )


def recipients(address: object) -> tuple[str, ...]:
    """The recipients of an address field (``"a;b"`` or a list), stripped and sorted: the
    same set in any order or spacing names the same alert."""
    if address is None:
        return ()
    items: Iterable[object] = address.split(";") if isinstance(address, str) else address  # type: ignore[assignment]
    return tuple(sorted({str(item).strip() for item in items if str(item).strip()}))


def _digest(prefix: str, parts: Sequence[str]) -> str:
    key = "\x1f".join(parts)
    return prefix + hashlib.sha256(key.encode("utf-8")).hexdigest()[:_HEX]


def alert_job_id(facts: Sequence[str], kind: str, to: Sequence[str]) -> str:
    """The JobID of one alert: the same for every resend of it, different for another
    task, run, try, callback state, kind or set of recipients. It starts with the prefix of
    the failure it is about (``Failure.prefix`` in
    :mod:`~airflow_provider_ecall.notifications.alert_ids`), so the watchdog's sweeper can
    find it in eCall's records.

    :param facts: DAG id, task id, run id, map index, try number, state (or reason), and
        ``"dag"`` for a DAG-level callback's alert or ``"task"`` for a task's.
    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param to: the recipients (see :func:`recipients`).
    """
    from airflow_provider_ecall.notifications.alert_ids import failure_of

    failure = failure_of(facts, dag_level=len(facts) > 6 and facts[6] == "dag")
    return failure.job_id(facts, kind, to)


def storm_job_id(
    key: str,
    window: timedelta,
    kind: str,
    to: Sequence[str],
    now: datetime,
    *,
    urgent: bool = False,
    held_until: datetime | None = None,
) -> str:
    """The JobID every alert of one ``dedup_key`` shares within one period.

    The period is the dedup window ``now`` falls in, counted from the Unix epoch
    (``now`` // ``window``), so every worker agrees on it without talking to another: two
    alerts a moment apart across a window boundary both go out. An alert held for the end
    of the quiet hours (``held_until``) shares the period of the whole quiet window
    instead: a night of failures is one held alert, whatever the dedup window. Urgent
    alerts have their own identity, so neither a held nor a non-urgent alert of the same
    key suppresses one (they are deduplicated among themselves).
    """
    if held_until is not None:
        period = ["held", str(int(held_until.timestamp()))]
    else:
        seconds = window.total_seconds()
        period = [str(seconds), str(int(now.timestamp() // seconds))]
    urgency = ["urgent"] if urgent else []
    return _digest(STORM_JOB_PREFIX, [key, *urgency, *period, kind, *to])


class Clock:
    """Where alert policy reads the time: the wall clock. A test replaces :meth:`now` on
    :data:`CLOCK` to walk through a night without sleeping."""

    def now(self) -> datetime:
        """The current time, aware (UTC)."""
        return datetime.now(timezone.utc)


#: The clock every notifier reads (quiet hours, dedup windows).
CLOCK: Final = Clock()
