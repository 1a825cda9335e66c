"""Delivery that progresses over time, as the real service reports it through ``Api/State``.

Nothing runs in the background: a recipient's status is worked out when it is asked for,
from the time since its job was accepted (or since its send date, for a scheduled job) and
the :class:`DeliveryBehaviour` in force. Stages, with ``delay`` the time to the final status:

======  =========================  ===========================  ===============================
kind    before ``delay / 2``       until ``delay``              from ``delay`` on
======  =========================  ===========================  ===============================
sms     1 Transmitted              9 Waiting for delivery       8 Delivered / 2 Error
fax     101 Transmitting           101 Transmitting             41 Sent / 42 Finished with error
voice   30 Sending                 31 Sent / 39 Retry stage     34 Confirmed / 33 Not confirmed
                                                                / 2 Not answered
======  =========================  ===========================  ===============================

A number in ``never`` stays at its first in-between stage for ever. A status set by hand
(:meth:`EcallSandbox.set_status`) is kept as set.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from airflow_provider_ecall.sandbox.params import normalize_number
from airflow_provider_ecall.sandbox.state import Kind, RecipientStatus

#: The default time from acceptance to the final status, in seconds.
DEFAULT_DELAY: Final = 2.0
SMS_SENT: Final = (1, "Transmitted")
SMS_WAITING: Final = (9, "Waiting for delivery")
SMS_DELIVERED: Final = (8, "Delivered")
FAX_SENDING: Final = (101, "Transmitting")
FAX_SENT: Final = (41, "Sent")
FAX_FAILED: Final = (42, "Finished with error")
VOICE_SENDING: Final = (30, "Sending")
VOICE_SENT: Final = (31, "Sent")
VOICE_RETRYING: Final = (39, "Retry stage")
VOICE_CONFIRMED: Final = (34, "Played and confirmed")
VOICE_UNCONFIRMED: Final = (33, "Played, not confirmed")
ERROR: Final = (2, "Error")
NOT_ANSWERED: Final = (2, "Error: not answered")


def _numbers(values: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_number(value) for value in values)


@dataclass(frozen=True)
class DeliveryBehaviour:
    """How the sandbox's deliveries progress.

    :param delay: seconds from acceptance (or send date) to the final status; 0 = at once.
    :param failing: numbers whose delivery fails (SMS 2, fax 42, voice 2).
    :param never: numbers whose delivery never reaches a final status.
    :param unanswered: voice numbers nobody answers (39 retry stage, then 2).
    :param unconfirmed: voice numbers that answer but never press ``#`` (33).
    """

    delay: float = DEFAULT_DELAY
    failing: frozenset[str] = field(default_factory=frozenset)
    never: frozenset[str] = field(default_factory=frozenset)
    unanswered: frozenset[str] = field(default_factory=frozenset)
    unconfirmed: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 0 <= self.delay <= 86_400:
            raise ValueError("delay must be between 0 and 86400 seconds")
        for name in ("failing", "never", "unanswered", "unconfirmed"):
            object.__setattr__(self, name, _numbers(getattr(self, name)))

    def status(self, kind: Kind, address: str, elapsed: float) -> tuple[int, str]:
        """The status of one recipient ``elapsed`` seconds after its job started.

        :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
        :param address: the recipient as sent.
        :param elapsed: seconds since the job was accepted (or its send date).
        """
        number = normalize_number(address)
        stage = 2 if elapsed >= self.delay else (1 if elapsed >= self.delay / 2 else 0)
        if number in self.never:
            stage = min(stage, 1)
        failing = number in self.failing
        if kind == "sms":
            return (SMS_SENT, SMS_WAITING, ERROR if failing else SMS_DELIVERED)[stage]
        if kind == "fax":
            return FAX_SENDING if stage < 2 else (FAX_FAILED if failing else FAX_SENT)
        return self._voice(number, stage)

    def _voice(self, number: str, stage: int) -> tuple[int, str]:
        if stage == 0:
            return VOICE_SENDING
        unanswered = number in self.unanswered or number in self.failing
        if stage == 1:
            return VOICE_RETRYING if unanswered else VOICE_SENT
        if unanswered:
            return NOT_ANSWERED if number in self.unanswered else ERROR
        return VOICE_UNCONFIRMED if number in self.unconfirmed else VOICE_CONFIRMED


class DeliveryProgress:
    """The sandbox's jobs in flight and the behaviour they follow; thread-safe.

    :param behaviour: the initial behaviour.
    """

    def __init__(self, behaviour: DeliveryBehaviour | None = None) -> None:
        self._lock = threading.Lock()
        self._behaviour = behaviour or DeliveryBehaviour()
        self._jobs: dict[str, Kind] = {}
        self._pinned: set[tuple[str, str | None]] = set()

    @property
    def behaviour(self) -> DeliveryBehaviour:
        """The behaviour in force."""
        with self._lock:
            return self._behaviour

    def configure(self, behaviour: DeliveryBehaviour) -> None:
        """Replace the behaviour; jobs already accepted follow the new one from now on."""
        with self._lock:
            self._behaviour = behaviour

    def register(self, job_id: str, kind: Kind) -> None:
        """Remember the kind of an accepted job (its statuses then progress)."""
        with self._lock:
            self._jobs[job_id] = kind

    def pin(self, job_id: str, address: str | None) -> None:
        """Keep a hand-set status of a job (one recipient, or all when ``address`` is None)."""
        with self._lock:
            self._pinned.add((job_id, address))

    def reset(self) -> None:
        """Forget every job and pin (the behaviour stays)."""
        with self._lock:
            self._jobs.clear()
            self._pinned.clear()

    def apply(self, items: list[RecipientStatus], now: datetime) -> list[RecipientStatus]:
        """The statuses as they stand at ``now``.

        :param items: statuses as stored (first status, or one set by hand).
        :param now: the current time (aware).
        """
        with self._lock:
            behaviour, jobs, pinned = self._behaviour, dict(self._jobs), set(self._pinned)
        return [self._progressed(item, behaviour, jobs, pinned, now) for item in items]

    @staticmethod
    def _progressed(
        item: RecipientStatus,
        behaviour: DeliveryBehaviour,
        jobs: dict[str, Kind],
        pinned: set[tuple[str, str | None]],
        now: datetime,
    ) -> RecipientStatus:
        kind = jobs.get(item.job_id)
        if kind is None or {(item.job_id, None), (item.job_id, item.address)} & pinned:
            return item
        start = max(item.received_at, item.timestamp)
        if now < start:  # scheduled: keeps its first status until the send date
            return item
        elapsed = (now - start).total_seconds()
        code, text = behaviour.status(kind, item.address, elapsed)
        moment = start + timedelta(seconds=min(elapsed, _stage_start(behaviour, elapsed)))
        return replace(item, code=code, text=text, timestamp=moment)


def _stage_start(behaviour: DeliveryBehaviour, elapsed: float) -> float:
    """When the stage reached after ``elapsed`` seconds began (its status's time stamp)."""
    if elapsed >= behaviour.delay:
        return behaviour.delay
    return behaviour.delay / 2 if elapsed >= behaviour.delay / 2 else 0.0
