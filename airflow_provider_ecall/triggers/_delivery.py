"""``EcallDeliveryTrigger``: wait in the triggerer until eCall reports the jobs final.

Public through :mod:`airflow_provider_ecall.triggers.ecall`. Everything a wait needs is in
its kwargs (jobs, connection, requirement, interval, deadline, earliest send time), so a
triggerer restart rebuilds it as it was; the shared poller it joins is rebuilt on demand.
Its defaults and checks are the other waits' (:mod:`airflow_provider_ecall.delivery.terms`);
tasks make it with :func:`airflow_provider_ecall.delivery.wait.make_trigger`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_ecall.client.delivery import DeliveryReport, Require
from airflow_provider_ecall.delivery.terms import (
    DEFAULT_POLL_INTERVAL,
    TRIGGER_CLASSPATH,
    check_poll_interval,
    check_require,
)
from airflow_provider_ecall.triggers._poller import (
    DeliveryPoller,
    Fetch,
    client_fetch,
    shared_poller,
)
from airflow_provider_ecall.utils.compat import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient


def _client_of(conn_id: str) -> EcallClient:
    from airflow_provider_ecall.hooks.ecall import EcallHook

    return EcallHook(ecall_conn_id=conn_id).get_client()


def _fetch_for(conn_id: str) -> Fetch:
    return client_fetch(lambda: _client_of(conn_id))


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class EcallDeliveryTrigger(BaseTrigger):
    """Fire when every recipient of the given jobs is final (or the deadline passes).

    Triggers of the same connection in one triggerer share one poller: one ``Api/State``
    request per interval answers all of them.

    :param job_ids: the JobIDs to wait for.
    :param ecall_conn_id: the ``ecall`` connection.
    :param require: ``"delivered"`` or ``"final"`` (decides the event's ``status``).
    :param poll_interval: seconds between status queries.
    :param deadline: ISO 8601 moment after which the trigger fires with ``status="timeout"``;
        None waits for ever.
    :param sent_after: ISO 8601 moment no job was sent before (the start of the window query);
        None asks per JobID.
    :param share_poller: join the connection's shared poller (False: a poller of its own,
        one request per wait and interval — the benchmark's baseline).

    The event payload: ``status`` (``delivered``, ``final``, ``failed``, ``timeout`` or
    ``error``), ``report`` (:meth:`DeliveryReport.to_dict`, numbers masked), ``message``.
    The callback receiver may fire one more kind for it, ``reported``
    (:func:`~airflow_provider_ecall.delivery.terms.callback_event`).
    """

    def __init__(
        self,
        *,
        job_ids: Sequence[str],
        ecall_conn_id: str = "ecall_default",
        require: Require = "delivered",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        deadline: str | None = None,
        sent_after: str | None = None,
        share_poller: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if not job_ids:
            raise ValueError("job_ids must name at least one job")
        self.job_ids = [str(job) for job in job_ids]
        self.ecall_conn_id = ecall_conn_id
        self.require: Require = check_require(require)
        self.poll_interval = check_poll_interval("poll_interval", poll_interval)
        self.deadline = deadline
        self.sent_after = sent_after
        self.share_poller = share_poller
        _moment(deadline), _moment(sent_after)  # refuse a malformed moment here, not later

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and kwargs: all the state a restarted triggerer needs."""
        return TRIGGER_CLASSPATH, {
            "job_ids": list(self.job_ids),
            "ecall_conn_id": self.ecall_conn_id,
            "require": self.require,
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
            "sent_after": self.sent_after,
            "share_poller": self.share_poller,
        }

    def _poller(self) -> DeliveryPoller:
        if self.share_poller:
            return shared_poller(self.ecall_conn_id, lambda: _fetch_for(self.ecall_conn_id))
        return DeliveryPoller(self.ecall_conn_id, _fetch_for(self.ecall_conn_id))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait for the shared poller's rounds until the jobs are final or time is up."""
        import asyncio

        from airflow_provider_ecall.triggers._timing import within

        poller = self._poller()
        waiter = poller.join(self.job_ids, _moment(self.sent_after), self.poll_interval)
        report = DeliveryReport.build(self.job_ids, {})
        said = ""
        try:
            while True:
                left = self.seconds_left()
                if left is not None and left <= 0:
                    yield self._event("timeout", report, f"still waiting: {report.summary()}")
                    return
                try:
                    latest = await within(waiter.next_round(), left)
                except asyncio.TimeoutError:
                    continue
                if latest.error is not None:
                    yield self._event("error", report, latest.error)
                    return
                report = DeliveryReport.build(self.job_ids, latest.records)
                verdict = report.verdict(self.require)
                if verdict != "waiting":
                    yield self._event(verdict, report, report.summary())
                    return
                said = self._progress(report.summary(), said)
        finally:
            poller.leave(waiter)

    def _progress(self, summary: str, said: str) -> str:
        """Log a wait's progress: at INFO when it changed, else at DEBUG (a round at scale
        answers thousands of waits; the poller's own line sums the round up)."""
        level = logging.INFO if summary != said else logging.DEBUG
        self.log.log(level, "eCall delivery of %s: %s", _jobs(self.job_ids), summary)
        return summary

    def seconds_left(self) -> float | None:
        """Seconds until the deadline (negative once passed); None without a deadline."""
        deadline = _moment(self.deadline)
        return None if deadline is None else _seconds_until(deadline)

    def _event(self, status: str, report: DeliveryReport, message: str) -> TriggerEvent:
        """The event that ends the wait; the task's log says how it ended."""
        level = logging.INFO if status in ("delivered", "final") else logging.WARNING
        self.log.log(level, "eCall delivery of %s ended: %s (%s)", _jobs(self.job_ids), status,
                     message)  # fmt: skip
        payload = {"status": status, "report": report.to_dict(), "message": message}
        return TriggerEvent(payload)  # type: ignore[no-untyped-call]


def _seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(timezone.utc)).total_seconds()


def _jobs(job_ids: Sequence[str]) -> str:
    shown = ", ".join(job_ids[:3])
    return shown + (f" (+{len(job_ids) - 3} more)" if len(job_ids) > 3 else "")
