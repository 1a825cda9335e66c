"""The sweeper: pages for failures no callback paged (no Airflow import).

Each sweep lists the task instances and DAG runs that failed between ``sweep_lookback`` and
``sweep_grace`` ago (Airflow's REST API), keeps those a route matches, and asks eCall once
for the alerts sent since the earliest of them (``Api/State`` by time window). A failure
is paged already when any JobID there starts with its prefix (a notifier's alert, see
:mod:`~airflow_provider_ecall.notifications.alert_ids`) — otherwise the sweeper pages,
with a JobID of that prefix that ``Api/State`` is asked for first, so a second sweeper or a
restarted one sends nothing again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final, Literal

from airflow_provider_ecall.notifications.alert_ids import Failure, prefixes_of
from airflow_provider_ecall.watchdog._pager import Pager, log
from airflow_provider_ecall.watchdog._routing import Route, route_for

if TYPE_CHECKING:
    from airflow_provider_ecall.watchdog._airflow import AirflowApi, FailedItem
    from airflow_provider_ecall.watchdog._config import WatchdogConfig

#: How far before a failure's end its notifier's alert may have been sent (clock skew).
_SKEW: Final = timedelta(minutes=10)


@dataclass
class Outage:
    """When eCall last failed to answer the watchdog (for the late alert's reason)."""

    since: datetime | None = None
    until: datetime | None = None

    def failed(self, now: datetime) -> None:
        """eCall did not answer now."""
        if self.since is None or (self.until is not None):
            self.since, self.until = now, None

    def answered(self, now: datetime) -> None:
        """eCall answered now."""
        if self.since is not None and self.until is None:
            self.until = now

    def covers(self, moment: datetime) -> bool:
        """Whether eCall was failing at ``moment`` (or within a minute after it)."""
        if self.since is None:
            return False
        end = self.until or datetime.now(timezone.utc)
        return self.since - timedelta(minutes=1) <= moment <= end


def failure_of(item: FailedItem) -> Failure:
    """The :class:`Failure` of a REST API item."""
    return Failure(item.dag_id, item.run_id, item.task_id, item.map_index, item.try_number)


def late_text(item: FailedItem, outage: Outage, now: datetime) -> str:
    """The sweeper's alert: what failed, when, and why this alert is late."""
    what = (
        f"task {item.dag_id}.{item.task_id} failed (try {item.try_number})"
        if item.task_id is not None
        else f"DAG {item.dag_id} failed"
    )
    ended = item.end_date or now
    minutes = max(int((now - ended).total_seconds() // 60), 0)
    if outage.since is not None and outage.covers(ended):
        until = f"{outage.until:%H:%M} UTC" if outage.until else "now"
        why = f"eCall did not answer from {outage.since:%H:%M} UTC to {until}"
    else:
        why = "no alert had reached eCall (callback not run, or its alert lost)"
    return (
        f"Airflow LATE ALERT: {what} at {ended:%H:%M} UTC, {minutes} min ago. "
        f"Late because {why}. run {item.run_id}"
    )


class Sweeper:
    """One sweep per call of :meth:`sweep`.

    :param config: the watchdog's settings (routes, grace, lookback).
    :param api: Airflow's REST API.
    :param pager: sends the pages.
    :param outage: shared with the loop: when eCall failed.
    """

    def __init__(
        self, config: WatchdogConfig, api: AirflowApi, pager: Pager, outage: Outage
    ) -> None:
        self.config = config
        self.api = api
        self.pager = pager
        self.outage = outage

    def _routed(self, items: list[FailedItem]) -> list[tuple[FailedItem, Route]]:
        routes = self.config.routes
        tags: dict[str, tuple[str, ...]] = {}
        if any(r.tags for r in routes):
            tags = self.api.dag_tags()
        found = []
        for item in items:
            dag_tags: Collection[str] = tags.get(item.dag_id, ())
            route = route_for(routes, item.dag_id, item.task_id, dag_tags)
            if route is not None:
                found.append((item, route))
        return found

    def sweep(self, now: datetime) -> int:
        """Page for every routed failure without an alert; return how many were paged.

        :raises AirflowUnreachable: Airflow did not answer (nothing paged).
        :raises EcallError: eCall did not answer (the rest waits for the next sweep).
        """
        config = self.config
        items = self.api.failures(now - config.sweep_lookback, now - config.sweep_grace)
        routed = self._routed(items)
        if not routed:
            return 0
        earliest = min((i.end_date or now) for i, _ in routed) - _SKEW
        records = self.pager.client.get_status(start_date=earliest, end_date=now + _SKEW)
        known = [r.job_id for r in records if r.job_id]
        paged = 0
        for item, route in routed:
            failure = failure_of(item)
            prefixes = prefixes_of(failure)
            if any(job.startswith(prefixes) for job in known):
                continue
            job_id = failure.job_id(["failed", "sweeper"], route.kind, route.to)
            text = late_text(item, self.outage, now)
            kind: Literal["sms", "voice"] = "voice" if route.kind == "voice" else "sms"
            if self.pager.page(kind, route.to, text, job_id):
                paged += 1
                log.warning("swept: %s", text.split(". run ")[0])
        return paged
