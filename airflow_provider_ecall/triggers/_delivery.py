"""``EcallDeliveryTrigger``: wait in the triggerer until eCall reports the jobs final.

Public through :mod:`airflow_provider_ecall.triggers.ecall`. Everything a wait needs is in
its kwargs (jobs, connection, requirement, interval, deadline, earliest send time), so a
triggerer restart rebuilds it as it was; the shared poller it joins is rebuilt on demand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall._compat import BaseTrigger, TriggerEvent
from airflow_provider_ecall.client.delivery import REQUIRE_VALUES, DeliveryReport, Require
from airflow_provider_ecall.triggers._poller import (
    DeliveryPoller,
    Fetch,
    client_fetch,
    shared_poller,
)

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient

CLASSPATH = "airflow_provider_ecall.triggers.ecall.EcallDeliveryTrigger"
#: The ``status`` of the event the callback receiver fires when eCall calls back about a
#: job a trigger waits for: a hint to look now, not a verdict (see :func:`callback_event`).
REPORTED: Final = "reported"


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
    (:func:`callback_event`).
    """

    def __init__(
        self,
        *,
        job_ids: Sequence[str],
        ecall_conn_id: str = "ecall_default",
        require: Require = "delivered",
        poll_interval: float = 60.0,
        deadline: str | None = None,
        sent_after: str | None = None,
        share_poller: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if require not in REQUIRE_VALUES:
            raise ValueError(f"require must be one of {REQUIRE_VALUES}, not {require!r}")
        if not job_ids:
            raise ValueError("job_ids must name at least one job")
        if not poll_interval > 0:
            raise ValueError("poll_interval must be above 0 seconds")
        self.job_ids = [str(job) for job in job_ids]
        self.ecall_conn_id = ecall_conn_id
        self.require: Require = require
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.sent_after = sent_after
        self.share_poller = share_poller
        _moment(deadline), _moment(sent_after)  # refuse a malformed moment here, not later

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and kwargs: all the state a restarted triggerer needs."""
        return CLASSPATH, {
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

        poller = self._poller()
        waiter = poller.join(self.job_ids, _moment(self.sent_after), self.poll_interval)
        report = DeliveryReport.build(self.job_ids, {})
        try:
            while True:
                left = self.seconds_left()
                if left is not None and left <= 0:
                    yield self._event("timeout", report, f"still waiting: {report.summary()}")
                    return
                try:
                    latest = await asyncio.wait_for(waiter.next_round(), timeout=left)
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
                self.log.info("eCall delivery of %s: %s", _jobs(self.job_ids), report.summary())
        finally:
            poller.leave(waiter)

    def seconds_left(self) -> float | None:
        """Seconds until the deadline (negative once passed); None without a deadline."""
        deadline = _moment(self.deadline)
        return None if deadline is None else _seconds_until(deadline)

    def _event(self, status: str, report: DeliveryReport, message: str) -> TriggerEvent:
        payload = {"status": status, "report": report.to_dict(), "message": message}
        return TriggerEvent(payload)  # type: ignore[no-untyped-call]


def callback_event(kwargs: Mapping[str, Any], job_id: str) -> dict[str, Any] | None:
    """The event the callback receiver fires for a waiting trigger when eCall called back
    about ``job_id`` (None: that trigger does not wait for the job).

    The payload carries the trigger's own kwargs, so the resumed task can check
    ``Api/State`` once and, if the jobs are not final yet, wait on the same trigger again
    with the same deadline. It holds no number: task instances store their event.

    :param kwargs: a waiting trigger's kwargs (its :meth:`EcallDeliveryTrigger.serialize`).
    :param job_id: the JobID the callback named.
    """
    if job_id not in {str(job) for job in kwargs.get("job_ids") or ()}:
        return None
    return {
        "status": REPORTED,
        "trigger": dict(kwargs),
        "message": f"eCall called back about job {job_id}",
    }


def _seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(timezone.utc)).total_seconds()


def _jobs(job_ids: Sequence[str]) -> str:
    shown = ", ".join(job_ids[:3])
    return shown + (f" (+{len(job_ids) - 3} more)" if len(job_ids) > 3 else "")
