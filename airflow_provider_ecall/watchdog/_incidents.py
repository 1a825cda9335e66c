"""Incidents: what the watchdog's readings of Airflow mean over time (no I/O here).

A component (``api-server``, ``metadatabase``, ``scheduler``, ``triggerer``,
``dag_processor``, or ``dag:<id>`` for a dead-man's switch) that reads unhealthy for a whole
grace period opens an incident; the first healthy reading closes it. Each incident has
deterministic JobIDs (:func:`incident_job_id`) from the component and its start — the last
heartbeat Airflow recorded when it has one — so a restarted watchdog, or a second one, finds
the SMS in eCall's records (``Api/State``) and does not page again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final, Literal

INCIDENT_JOB_PREFIX: Final = "afw-"
Phase = Literal["open", "call", "done"]
_PHASES: Final = ("open", "call", "done")
_JOB: Final = re.compile(r"^afw-([0-9a-f]{10})-(\d{1,12})-(open|call|done)$")


def component_key(namespace: str, component: str) -> str:
    """10 hex characters naming one component of one Airflow deployment."""
    key = f"{namespace}\x1f{component}".encode()
    return hashlib.sha256(key).hexdigest()[:10]


def incident_job_id(namespace: str, component: str, start: datetime, phase: Phase) -> str:
    """The JobID of an incident's SMS (``open``/``done``) or voice call (``call``).

    :param namespace: the deployment (the watchdog's ``name``).
    :param start: when the incident began (whole seconds count).
    """
    key = component_key(namespace, component)
    return f"{INCIDENT_JOB_PREFIX}{key}-{int(start.timestamp())}-{phase}"


def parse_incident_job_id(job_id: str) -> tuple[str, int, str] | None:
    """``(component key, start epoch seconds, phase)`` of an incident JobID, else None."""
    match = _JOB.match(job_id)
    return None if match is None else (match[1], int(match[2]), match[3])


@dataclass(frozen=True)
class Reading:
    """One component as read now.

    :param healthy: True, False, or None when it cannot be told (not deployed, no answer).
    :param heartbeat: the last heartbeat Airflow recorded, when it says.
    :param detail: a short reason for the SMS (``"heartbeat 95 s old"``).
    """

    healthy: bool | None
    heartbeat: datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class Action:
    """Something to send: an incident opened, escalated (voice) or closed.

    :param phase: ``open``, ``call`` or ``done``.
    :param component: which component.
    :param start: the incident's start (its JobIDs derive from it).
    :param detail: the reading's reason (open, call) or how long it lasted (done).
    :param anchored: the start comes from Airflow's records (a heartbeat, a last success),
        so every watchdog computes the same; otherwise it is this watchdog's first reading.
    """

    phase: Phase
    component: str
    start: datetime
    detail: str
    anchored: bool = True


@dataclass
class _Track:
    suspect_since: datetime | None = None
    start: datetime | None = None  # set while an incident is open
    opened_at: datetime | None = None
    called: bool = False
    detail: str = ""


@dataclass
class IncidentBook:
    """The state of every component; :meth:`observe` turns readings into :class:`Action`.

    :param grace: how long a component must read unhealthy before an incident opens.
    :param escalate_after: a voice call when an incident lasts this long (None: never).
    """

    grace: timedelta
    escalate_after: timedelta | None = None
    tracks: dict[str, _Track] = field(default_factory=dict)

    def adopt(self, component: str, start: datetime, *, called: bool, now: datetime) -> None:
        """Take over an incident found open in eCall's records (a restarted watchdog)."""
        self.tracks[component] = _Track(
            suspect_since=start, start=start, opened_at=now, called=called
        )

    def open_incidents(self) -> dict[str, datetime]:
        """``{component: start}`` of the incidents open now."""
        return {c: t.start for c, t in self.tracks.items() if t.start is not None}

    def observe(self, readings: dict[str, Reading], now: datetime) -> list[Action]:
        """Feed one round of readings; return what to send, in order."""
        actions: list[Action] = []
        for component, reading in sorted(readings.items()):
            track = self.tracks.setdefault(component, _Track())
            action = self._step(component, track, reading, now)
            if action is not None:
                actions.append(action)
        return actions

    def _step(
        self, component: str, track: _Track, reading: Reading, now: datetime
    ) -> Action | None:
        if reading.healthy is None:
            return None  # cannot tell: keep whatever was known
        if reading.healthy:
            start, track.suspect_since = track.start, None
            if start is None:
                return None
            self.tracks[component] = _Track()
            return Action("done", component, start, f"lasted {_duration(now - start)}")
        track.detail = reading.detail
        if track.suspect_since is None:
            track.suspect_since = now
        if track.start is None:
            if now - track.suspect_since < self.grace:
                return None
            track.start = reading.heartbeat or track.suspect_since
            track.opened_at = now
            anchored = reading.heartbeat is not None
            return Action("open", component, track.start, reading.detail, anchored)
        lasted = now - (track.opened_at or now)
        if self.escalate_after is not None and not track.called and lasted >= self.escalate_after:
            track.called = True
            return Action("call", component, track.start, reading.detail)
        return None


def _duration(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def incident_text(action: Action, name: str) -> str:
    """The SMS or spoken text of an action."""
    what = action.component
    if what.startswith("dag:"):
        return _deadman_text(action, name, what[4:])
    if action.phase == "open":
        since = f"{action.start:%H:%M:%S} UTC"
        return f"Airflow {name}: {what} DOWN since {since}. {action.detail}".strip()
    if action.phase == "call":
        return f"Airflow {name}: {what} is still down since {action.start:%H:%M} UTC."
    return f"Airflow {name}: {what} back up, {action.detail}."


def _deadman_text(action: Action, name: str, dag_id: str) -> str:
    if action.phase == "open":
        return (
            f"Airflow {name}: DAG {dag_id} has no successful run in its window ({action.detail})."
        )
    if action.phase == "call":
        return f"Airflow {name}: DAG {dag_id} still has no successful run in its window."
    return f"Airflow {name}: DAG {dag_id} succeeded again, {action.detail}."


def open_incidents_in(
    job_ids: Iterable[str], keys: Mapping[str, str]
) -> dict[str, tuple[datetime, bool]]:
    """The incidents eCall's records show opened and not closed: ``{component: (start,
    called)}``, the latest per component.

    :param job_ids: JobIDs from ``Api/State``.
    :param keys: ``{component_key: component}`` of the components watched.
    """
    phases: dict[tuple[str, int], set[str]] = {}
    for job_id in job_ids:
        parsed = parse_incident_job_id(job_id)
        if parsed is not None and parsed[0] in keys:
            phases.setdefault((parsed[0], parsed[1]), set()).add(parsed[2])
    found: dict[str, tuple[datetime, bool]] = {}
    for (key, start), seen in sorted(phases.items()):
        if "open" in seen and "done" not in seen:
            found[keys[key]] = (datetime.fromtimestamp(start, timezone.utc), "call" in seen)
    return found
