"""One ``Api/State`` poller per connection and event loop, shared by every waiting trigger.

A triggerer runs many triggers on one event loop. Each :class:`EcallDeliveryTrigger` joins
the poller of its connection (:func:`shared_poller`), which asks eCall once per interval about
every waiter's jobs in the fewest queries its
:class:`~airflow_provider_ecall.client.planner.QueryPlanner` finds (windows of send times
that eCall answers whole, JobIDs where those are cheaper) and hands each waiter its share.
The queries run in a worker thread (``asyncio.to_thread``), so the event loop never blocks
on the network. When the last waiter leaves, the poller stops and forgets itself; nothing it
holds has to survive a restart — the triggers' kwargs are the state.
A wait that just joined gets its first answer soon (:data:`FIRST_LOOK_GAP`), not a whole
interval later.

Passing failures (timeouts, 5xx, dropped connections) back off: the pause doubles per
failure up to :data:`MAX_BACKOFF`, and the waiters keep waiting. Any other failure (refused
credentials, a missing connection) ends every wait with that error.

Each round writes one INFO line per connection (waits, queries, status objects, jobs final);
the waits themselves log only what changed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final

from airflow_provider_ecall.client.planner import Answer, QueryPlanner, Want
from airflow_provider_ecall.triggers._timing import within

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient
    from airflow_provider_ecall.client.responses import StatusRecord

log = logging.getLogger(__name__)

#: The longest pause after repeated passing failures, in seconds.
MAX_BACKOFF: Final = 600.0
#: A new wait's first answer comes this long after the poller's previous query at the
#: latest, not a whole interval later: its jobs may be final already (a sensor that starts
#: after the delivery; a delivery callback that came before the task deferred). Waits that
#: join within this gap share one query.
FIRST_LOOK_GAP: Final = 5.0
Found = Mapping[str, Sequence["StatusRecord"]]
#: ``(wants, now) -> answer``: one round's queries; blocking (run in a thread).
Fetch = Callable[[Sequence[Want], datetime], Answer]


@dataclass(frozen=True)
class Round:
    """What one poll found for everyone: the records per job, or the error that ends waits."""

    records: Found
    error: str | None = None


@dataclass(eq=False)
class Waiter:
    """One trigger's place in a poller.

    :param job_ids: its jobs.
    :param sent_after: none of them was sent before this (aware), or None.
    :param interval: how often it wants an answer, in seconds.
    :param joined: when it joined (aware); its jobs were sent before, normally.
    """

    job_ids: tuple[str, ...]
    sent_after: datetime | None
    interval: float
    joined: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    _latest: Round | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def deliver(self, result: Round) -> None:
        """Hand this waiter the latest round (its jobs only)."""
        records = {job: result.records[job] for job in self.job_ids if job in result.records}
        self._latest = Round(records, result.error)
        self._ready.set()

    @property
    def answered(self) -> bool:
        """Whether a round reached this waiter yet."""
        return self._latest is not None

    async def next_round(self) -> Round:
        """Wait for the next round the poller hands over."""
        await self._ready.wait()
        self._ready.clear()
        assert self._latest is not None
        return self._latest


class DeliveryPoller:
    """Polls ``Api/State`` for a set of waiters.

    :param name: for log lines (the connection id).
    :param fetch: ``(wants, now) -> answer`` (:data:`Fetch`); blocking, run in a thread;
        raises an ``EcallError`` with ``retryable`` for passing failures.
    :param on_idle: called when the last waiter left and the poller stopped.
    """

    def __init__(self, name: str, fetch: Fetch, on_idle: Callable[[], None] | None = None):
        self.name = name
        self._fetch = fetch
        self._on_idle = on_idle
        self._waiters: list[Waiter] = []
        self._task: asyncio.Task[None] | None = None
        self._joined = asyncio.Event()
        self._last_query = float("-inf")  # event-loop time the latest query started

    @property
    def waiters(self) -> int:
        """How many waits share this poller."""
        return len(self._waiters)

    def join(self, job_ids: Sequence[str], sent_after: datetime | None, interval: float) -> Waiter:
        """Add a waiter; the poller starts if it was idle."""
        waiter = Waiter(tuple(job_ids), sent_after, interval)
        self._waiters.append(waiter)
        self._joined.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return waiter

    def leave(self, waiter: Waiter) -> None:
        """Remove a waiter (its trigger ended or was cancelled)."""
        if waiter in self._waiters:
            self._waiters.remove(waiter)

    async def _run(self) -> None:
        failures = 0
        try:
            while self._waiters:
                await self._until_due(failures)
                if not self._waiters:
                    break
                failures = await self._poll_once(failures)
        finally:
            if not self._waiters and self._on_idle is not None:
                self._on_idle()

    async def _until_due(self, failures: int) -> None:
        """Sleep until the next query is due: the shortest interval (backed off after
        failures) after the latest query, or :data:`FIRST_LOOK_GAP` after it while a wait
        has had no answer yet; a wait joining meanwhile is taken into account."""
        loop = asyncio.get_running_loop()
        while self._waiters:
            self._joined.clear()
            interval = min(w.interval for w in self._waiters)
            due = self._last_query + _backoff(interval, failures)
            if failures == 0 and not all(w.answered for w in self._waiters):
                due = min(due, self._last_query + FIRST_LOOK_GAP)
            left = due - loop.time()
            if left <= 0:
                return
            try:
                await within(self._joined.wait(), left)
            except asyncio.TimeoutError:
                return

    async def _poll_once(self, failures: int) -> int:
        """Ask once and hand out the answer; returns the new count of passing failures."""
        self._last_query = asyncio.get_running_loop().time()
        waiters = list(self._waiters)
        wants = [Want(job, w.sent_after, w.joined) for w in waiters for job in w.job_ids]
        try:
            answer = await asyncio.to_thread(self._fetch, wants, datetime.now(timezone.utc))
        except Exception as exc:
            if getattr(exc, "retryable", False):
                pause = _backoff(min(w.interval for w in waiters), failures + 1)
                log.warning(
                    "eCall %s: status query failed (%s); next try in %.0f s",
                    self.name,
                    type(exc).__name__,
                    pause,
                )
                return failures + 1
            result = Round({}, f"{type(exc).__name__}: {exc}")
        else:
            result = Round(answer.records)
            _log_round(self.name, len(waiters), len({w.job_id for w in wants}), answer)
        for waiter in waiters:
            waiter.deliver(result)
        return 0


def _log_round(name: str, waits: int, jobs: int, answer: Answer) -> None:
    refused = f", {answer.refused} refused and split" if answer.refused else ""
    log.info(
        "eCall %s: %d wait(s), %d Api/State quer%s (%d window(s), %d by JobID%s), "
        "%d status object(s), %d of %d job(s) final",
        name,
        waits,
        answer.windows + answer.by_job,
        "y" if answer.windows + answer.by_job == 1 else "ies",
        answer.windows,
        answer.by_job,
        refused,
        answer.objects,
        answer.final,
        jobs,
    )


def _backoff(interval: float, failures: int) -> float:
    return float(min(interval * (2**failures), max(interval, MAX_BACKOFF)))


def client_fetch(client_factory: Callable[[], EcallClient]) -> Fetch:
    """A blocking fetch over one client, created on first use (in the poller's thread), and
    one :class:`QueryPlanner`, which learns from round to round."""
    planner = QueryPlanner()
    made: list[EcallClient] = []

    def fetch(wants: Sequence[Want], now: datetime) -> Answer:
        if not made:
            made.append(client_factory())
        return planner.run(made[0], wants, now)

    return fetch


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, DeliveryPoller]] = (
    weakref.WeakKeyDictionary()
)


def shared_poller(key: str, fetch_factory: Callable[[], Fetch]) -> DeliveryPoller:
    """The poller of ``key`` (a connection id) on the running event loop, made if needed.

    :param key: what waits share by: the connection id.
    :param fetch_factory: builds the fetch of a new poller.
    """
    pollers = _POLLERS.setdefault(asyncio.get_running_loop(), {})
    poller = pollers.get(key)
    if poller is None:
        poller = DeliveryPoller(key, fetch_factory(), on_idle=lambda: _forget(pollers, key))
        pollers[key] = poller
    return poller


def _forget(pollers: dict[str, DeliveryPoller], key: str) -> None:
    poller = pollers.get(key)
    if poller is not None and poller.waiters == 0:
        del pollers[key]
