"""The query planner of delivery waits: which ``Api/State`` queries answer one round.

Used by the triggerer's shared poller (one planner per poller) and by a wait in a worker
(one planner per wait: the delivery sensor in poke mode, ``wait_for_delivery`` without
deferring).

eCall answers a window of send times with every status object in it — one per recipient of
every job of the account, ours or not — and refuses more than :data:`LIMIT` of them (11701).
One window over all waits, halved on every refusal, costs ~2 × ⌈objects / 1000⌉ queries a
round at scale. The planner instead cuts the send-time range into windows that each hold
at most :data:`LIMIT` objects by what it knows:

- each waited-for job's send time: after its waits' ``sent_after`` and before the first of
  them joined (the task sent, then deferred), narrowed to the window that listed it;
- each job's recipient count: the objects eCall listed for it (1 until then);
- everything else in a window (other DAGs' jobs, alerts, finished waits): the totals eCall
  answered for each window, kept as a ledger of send-time segments, and the rate at which
  such objects arrive, for the stretch since the last answer.

Windows are whole seconds (eCall's dates are) and tile the ranges where waited-for jobs
may lie, so a job is found wherever in its range eCall stamped it. Where a range would take
as many windows as it holds jobs, those jobs are asked by JobID instead.

The window open at "now" (it ends a margin after it) also holds what is sent while the
round runs — after it was planned, before eCall answers — and jobs whose waits have not
joined yet. It is asked first, and it keeps room for them: a reserve learned from the
answers (how many more objects the open window held than planned, with a margin, decaying
from round to round while less arrives). A window refused all the same is split where the
objects the planner knows of halve (the fallback), on a whole second, and what each part
held is learned. A single second refused (it holds more than eCall answers: a send in
batches of a thousand recipients each, within one second) is remembered: from then on no
window holds it, nor a second either side, and the jobs that may lie there are asked by
JobID — in steady state (no new sends, every wait joined) eCall refuses nothing twice.

A job a covering window did not list (not indexed yet, or sent at a time it was not thought
to be) is asked by JobID next round; one missed twice is asked by JobID from then on. Jobs
without a ``sent_after`` are always asked by JobID. Plain Python and the client: no
asyncio, no Airflow; a planner is used from one thread at a time.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final, Union

from airflow_provider_ecall.client.delivery import WINDOW_MARGIN
from airflow_provider_ecall.client.errors import EcallRequestError
from airflow_provider_ecall.client.statuses import FINAL_OUTCOMES

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient
    from airflow_provider_ecall.client.responses import StatusRecord

log = logging.getLogger(__name__)

#: The most status objects eCall returns for one query (more: HTTP 400, 11701).
LIMIT: Final = 1000
_TOO_MANY: Final = 11701
#: Spread of a segment's other objects when estimating where they lie (points per segment).
_CHUNKS: Final = 16
#: The open window keeps room for this many times the most objects it held unforeseen...
_RESERVE_MARGIN: Final = 1.5
#: ...a reserve that shrinks by this factor a round while fewer arrive unforeseen...
_RESERVE_DECAY: Final = 0.8
#: ...and never takes more than this share of the limit.
_RESERVE_CAP: Final = 0.5
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Window:
    """A window query: every status object whose job eCall sent within ``[start, end]``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ByJob:
    """A query by JobID."""

    job_id: str


Query = Union[Window, ByJob]  # noqa: UP007 - evaluated at run time, Python 3.10 too


@dataclass(frozen=True)
class Want:
    """One job a wait is waiting for, and what the wait knows of its send time.

    :param job_id: the JobID.
    :param sent_after: it was sent after this (aware), or None when unknown.
    :param joined: when its wait joined the poller (aware): it was sent before, normally.
    """

    job_id: str
    sent_after: datetime | None
    joined: datetime


@dataclass(frozen=True)
class Answer:
    """What one round found.

    :param records: the records of each waited-for job eCall listed.
    :param windows: window queries planned.
    :param by_job: JobID queries made.
    :param refused: planned windows eCall refused (11701) and the client split.
    :param objects: status objects received in all.
    :param final: waited-for jobs whose every recipient is final.
    """

    records: Mapping[str, tuple[StatusRecord, ...]]
    windows: int = 0
    by_job: int = 0
    refused: int = 0
    objects: int = 0
    final: int = 0


@dataclass
class _Job:
    lo: datetime | None  # sent after this (None: unknown: asked by JobID)
    hi: datetime | None  # sent before this, learned from a window that listed it; None: open
    guess: datetime  # the best guess of its send time
    objects: int = 1
    misses: int = 0
    by_job_only: bool = False


@dataclass
class _Segment:
    start: float  # seconds since the epoch, whole
    end: float
    objects: int


@dataclass
class _Plan:
    windows: list[Window] = field(default_factory=list)
    by_job: dict[str, None] = field(default_factory=dict)  # an ordered set
    covered: dict[str, Window] = field(default_factory=dict)  # job -> its cluster's range
    open: dict[Window, float] = field(default_factory=dict)  # the window at now -> estimate


def _seconds(moment: datetime) -> float:
    return (moment - _EPOCH).total_seconds()


def _moment(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


class QueryPlanner:
    """Plans, asks and learns, one round at a time (see the module's docstring).

    :param limit: the most status objects eCall answers per query.
    :param margin: how far eCall's clock may be from ours.
    """

    def __init__(self, *, limit: int = LIMIT, margin: timedelta = WINDOW_MARGIN) -> None:
        self.limit = limit
        self.margin = margin.total_seconds()
        self._jobs: dict[str, _Job] = {}
        self._retired: dict[str, tuple[float, int]] = {}  # located jobs no wait asks for
        self._ledger: list[_Segment] = []
        self._as_of: float | None = None  # when the ledger was last answered
        self._rate = 0.0  # other objects per second of send time, as last seen
        self._reserve = 0.0  # room kept in the open window for what arrives unforeseen
        self._windows_name_jobs = True
        self._crowded: set[int] = set()  # seconds holding more than eCall answers at once

    # -- one round -----------------------------------------------------------------------------

    def run(self, client: EcallClient, wants: Sequence[Want], now: datetime) -> Answer:
        """Plan the round for ``wants``, ask eCall, learn from the answers.

        :param client: the connection's client.
        :param wants: every job waited for, with what its waits know.
        :param now: the current time (aware).
        :raises EcallError: a query failed (the round is lost; what was learned stays).
        """
        plan = self.plan(wants, now)
        found: dict[str, dict[tuple[object, ...], StatusRecord]] = {}
        seen_in: dict[str, Window] = {}
        objects = refused = 0
        held: dict[Window, int] = {}  # objects each planned window held, its parts together
        crowded: list[Window] = []  # refused one-second windows of this round
        # The open window first: what is sent while the round runs lands in it.
        queue = [(w, w) for w in sorted(plan.windows, key=lambda w: w not in plan.open)]
        while queue:
            window, planned = queue.pop(0)
            records, was_refused = _ask_window(client, window)
            refused += was_refused
            if records is not None:
                objects += len(records)
                held[planned] = held.get(planned, 0) + len(records)
                self._learn_window(window, records, now, found, seen_in)
            elif (parts := self._split(window, now)) is not None:
                queue[:0] = [(part, planned) for part in parts]  # the fallback, each learned
            else:  # one second holds more than eCall answers: no window holds it again
                crowded.append(window)
                self._crowded.add(math.floor(_seconds(window.start)))
        unlisted = [job for job in plan.covered if job not in seen_in]
        for window in crowded:  # the jobs that may lie there (no other window listed them)
            plan.by_job.update((j, None) for j in unlisted if _within(plan.covered[j], window))
        self._learn_reserve(plan.open, held)
        for job in plan.by_job:
            records = client.get_status(job_id=job)
            objects += len(records)
            self._learn_job(job, records, found)
        self._learn_misses(plan, seen_in, found)
        self._rate_from(plan.windows, now)
        wanted = {want.job_id for want in wants}
        kept = {job: tuple(by.values()) for job, by in found.items() if job in wanted}
        final = sum(1 for rs in kept.values() if all(r.outcome in FINAL_OUTCOMES for r in rs))
        return Answer(kept, len(plan.windows), len(plan.by_job), refused, objects, final)

    # -- planning ------------------------------------------------------------------------------

    def plan(self, wants: Sequence[Want], now: datetime) -> _Plan:
        """The queries of one round (and which range covers which job)."""
        self._sync(wants)
        open_end = math.ceil(_seconds(now) + self.margin)
        plan = _Plan()
        ranges: list[tuple[int, int, str]] = []
        for job_id, job in self._jobs.items():
            if job.lo is None or job.by_job_only or not self._windows_name_jobs:
                plan.by_job[job_id] = None
                continue
            if job.misses:
                plan.by_job[job_id] = None  # and in its window, where it may show up yet
            low = math.floor(_seconds(job.lo))
            high = open_end if job.hi is None else math.ceil(_seconds(job.hi))
            ranges.append((low, max(high, low + 1), job_id))
        for start, end, members in _clusters(ranges):
            is_open = end >= open_end
            tiles = self._around_crowded(self._tile(start, end, members, _seconds(now), is_open))
            if not tiles or len(tiles) >= len(members):  # as many by JobID (none: crowded)
                plan.by_job.update(dict.fromkeys(members))
                continue
            plan.windows.extend(window for window, _ in tiles)
            if is_open:
                plan.open[tiles[-1][0]] = tiles[-1][1]
            cover = Window(_moment(start), _moment(end))
            plan.covered.update((m, cover) for m in members)
        return plan

    def _sync(self, wants: Sequence[Want]) -> None:
        merged: dict[str, tuple[datetime | None, datetime]] = {}
        for want in wants:
            known = merged.get(want.job_id)
            if known is None:
                merged[want.job_id] = (want.sent_after, want.joined)
                continue
            lows = [m for m in (known[0], want.sent_after) if m is not None]
            merged[want.job_id] = (min(lows) if lows else None, min(known[1], want.joined))
        for job_id in [j for j in self._jobs if j not in merged]:
            gone = self._jobs.pop(job_id)
            if gone.hi is not None:
                self._retired[job_id] = (_seconds(gone.guess), gone.objects)
        for job_id, (sent_after, joined) in merged.items():
            job = self._jobs.get(job_id)
            low = None if sent_after is None else sent_after - timedelta(seconds=self.margin)
            if job is None:
                self._jobs[job_id] = _Job(low, None, joined)
                self._retired.pop(job_id, None)
            elif job.lo is not None and low is not None and low < job.lo and job.hi is None:
                job.lo = low  # a new wait knows less about it: look wider

    def _tile(
        self, start: int, end: int, members: list[str], now: float, is_open: bool
    ) -> list[tuple[Window, float]]:
        """Whole-second windows over ``[start, end]`` and the objects each is thought to
        hold, at most ``limit`` as far as the planner knows: the stretches eCall counted
        already (each as a whole, exact) and, elsewhere, one-second estimates; packed
        greedily from the end back, which takes fewest, the last window of an open range
        keeping the reserve free."""
        exact = [
            (s.start, s.end, float(s.objects))
            for s in self._ledger
            if s.end > start and s.start < end and s.objects <= self.limit
        ]
        starts = [a[0] for a in exact]
        atoms = list(exact)
        for second, mass in self._masses(start, end, members, now).items():
            index = bisect.bisect_right(starts, second) - 1
            if index < 0 or exact[index][1] <= second:  # not in a counted stretch
                atoms.append((second, second + 1, mass))
        atoms.sort(reverse=True)
        left = int(min([start, *starts]))
        right = int(max([end, *(a[1] for a in exact)]))
        windows: list[tuple[Window, float]] = []
        kept = self._reserve if is_open else 0.0  # room, as if it were sent at the end
        held = kept
        fixed = math.floor(now) if is_open else right  # the open window starts before now
        for _, high, mass in atoms:
            if held and held + mass > self.limit and left < high < right and high <= fixed:
                windows.append((Window(_moment(high), _moment(right)), held - kept))
                right, held, kept, fixed = int(high), 0.0, 0.0, int(high)
            held += mass
        windows.append((Window(_moment(left), _moment(right)), held - kept))
        windows.reverse()
        return windows

    def _around_crowded(self, tiles: list[tuple[Window, float]]) -> list[tuple[Window, float]]:
        """``tiles`` with each second that holds more than eCall answers (a window of it
        was refused) cut out, with a second either side: whole-second windows ``[.., c - 1]``
        and ``[c + 2, ..]`` hold nothing stamped within ``[c, c + 1]``. Jobs sent there are
        not listed: missed, they are asked by JobID (see :meth:`_learn_misses`)."""
        if not self._crowded:
            return tiles
        kept: list[tuple[Window, float]] = []
        for window, estimate in tiles:
            parts = [(math.floor(_seconds(window.start)), math.ceil(_seconds(window.end)))]
            for second in sorted(self._crowded):
                parts = [
                    part
                    for low, high in parts
                    for part in (
                        ((low, high),)
                        if high < second or low > second + 1
                        else ((low, second - 1), (second + 2, high))
                    )
                    if part[1] > part[0]
                ]
            kept.extend((Window(_moment(low), _moment(high)), estimate) for low, high in parts)
        return kept

    def _masses(self, start: int, end: int, members: list[str], now: float) -> dict[int, float]:
        """Estimated status objects per second of send time within ``[start, end]``."""
        buckets: dict[int, float] = {}
        points: list[tuple[float, float]] = []
        for job_id in members:
            job = self._jobs[job_id]
            points.append((self._place(job, start, end), float(job.objects)))
        points.extend((t, float(n)) for t, n in self._retired.values() if start <= t <= end)
        for segment in self._ledger:
            low, high = max(segment.start, start), min(segment.end, end)
            if high <= low:
                continue
            inside = sum(n for t, n in points if segment.start <= t < segment.end)
            share = (high - low) / (segment.end - segment.start)
            others = max(0.0, segment.objects - inside) * share
            points.extend(_spread(low, high, others))
        known_until = max(start, min(end, self._as_of if self._as_of is not None else start))
        if self._rate and now > known_until:
            points.extend(_spread(known_until, min(now, end), self._rate * (now - known_until)))
        for t, n in points:
            second = min(max(math.floor(t), start), end - 1)
            buckets[second] = buckets.get(second, 0.0) + n
        return buckets

    @staticmethod
    def _place(job: _Job, start: int, end: int) -> float:
        guess = _seconds(job.guess)
        low = _seconds(job.lo) if job.lo is not None else start
        high = _seconds(job.hi) if job.hi is not None else end
        return min(max(guess, low, start), high, end - 1e-6)

    def _split(self, window: Window, now: datetime) -> list[Window] | None:
        """The fallback for a refused window: two parts, on the whole second where half of
        its objects are thought to lie — those the planner knows of, and the limit's worth
        it does not, spread evenly up to now (nothing is sent later) — kept within the
        middle half of that stretch, so that the parts shrink; None for one second."""
        start, end = math.floor(_seconds(window.start)), math.ceil(_seconds(window.end))
        if end - start < 2:
            return None
        second = math.floor(_seconds(now))
        until = min(end, max(second + 1, start + 2))  # where the objects can lie
        members = [
            job_id
            for job_id, job in self._jobs.items()
            if job.lo is not None and _seconds(job.lo) < end
            and (job.hi is None or _seconds(job.hi) > start)
        ]  # fmt: skip
        masses = self._masses(start, until, members, _seconds(now))
        for point, mass in _spread(start, until, float(self.limit) + self._reserve):
            masses[math.floor(point)] = masses.get(math.floor(point), 0.0) + mass
        quarter = (until - start) / 4
        middle = _halfway(masses, math.ceil(start + quarter), math.floor(until - quarter))
        middle = min(max(middle, start + 1), end - 1)
        log.info(
            "eCall Api/State: more than %d objects from %s to %s; splitting at %s",
            self.limit,
            window.start.isoformat(),
            window.end.isoformat(),
            _moment(middle).isoformat(),
        )
        return [Window(_moment(start), _moment(middle)), Window(_moment(middle), _moment(end))]

    # -- learning ------------------------------------------------------------------------------

    def _learn_reserve(self, planned: Mapping[Window, float], held: Mapping[Window, int]) -> None:
        """Room for the next open window: the most objects an open window held beyond its
        estimate (sent while the round ran, by waits not joined yet, by others), with a
        margin; shrinking while less arrives unforeseen."""
        surprises = [held[w] - estimate for w, estimate in planned.items() if w in held]
        if not surprises:
            return
        wanted = _RESERVE_MARGIN * max(0.0, *surprises)
        self._reserve = min(self.limit * _RESERVE_CAP, max(wanted, self._reserve * _RESERVE_DECAY))

    def _learn_window(
        self,
        window: Window,
        records: Sequence[StatusRecord],
        now: datetime,
        found: dict[str, dict[tuple[object, ...], StatusRecord]],
        seen_in: dict[str, Window],
    ) -> None:
        if records and any(r.job_id is None for r in records):
            if self._windows_name_jobs:
                log.info("eCall Api/State names no JobID in window answers: asking per JobID")
            self._windows_name_jobs = False
            return
        unique = {_key(r): r for r in records}
        self._note_segment(window, len(unique), now)
        counts: dict[str, int] = {}
        for key, record in unique.items():
            job_id = record.job_id or ""
            found.setdefault(job_id, {})[key] = record
            counts[job_id] = counts.get(job_id, 0) + 1
        for job_id in counts:
            job = self._jobs.get(job_id)
            if job is None:
                continue
            seen_in[job_id] = window
            job.objects = len(found[job_id])
            job.misses = 0
            job.lo = window.start if job.lo is None else max(job.lo, window.start)
            job.hi = window.end if job.hi is None else min(job.hi, window.end)
            if job.lo > job.hi:  # two windows listed it (a shared boundary second)
                job.lo, job.hi = job.hi, job.lo
            job.guess = min(max(job.guess, job.lo), job.hi)

    def _learn_job(
        self,
        job_id: str,
        records: Sequence[StatusRecord],
        found: dict[str, dict[tuple[object, ...], StatusRecord]],
    ) -> None:
        job = self._jobs.get(job_id)
        if records:
            found.setdefault(job_id, {}).update((_key(r), r) for r in records)
            if job is not None:
                job.objects = len(found[job_id])
        if job is not None and job.misses:
            # The window that should have listed it did not: it is not sent yet, or not
            # when it was thought to be; from now on it may lie anywhere up to now.
            job.hi = None

    def _learn_misses(
        self,
        plan: _Plan,
        seen_in: Mapping[str, Window],
        found: Mapping[str, object],
    ) -> None:
        for job_id, cover in plan.covered.items():
            job = self._jobs.get(job_id)
            if job is None or job_id in seen_in:
                continue
            job.misses += 1
            if job.misses >= 2 and job_id in found:
                job.by_job_only = True  # listed by JobID, never in the window it should be
                log.info(
                    "eCall job %s is not in the send-time windows that should list it "
                    "(%s to %s); asking for it by JobID from now on",
                    job_id,
                    cover.start.isoformat(),
                    cover.end.isoformat(),
                )

    def _note_segment(self, window: Window, objects: int, now: datetime) -> None:
        """Keep what eCall answered for a window (up to now: later sends are not in it)."""
        start = _seconds(window.start)
        # Up to the last whole second before now: sends within the current second may come
        # after the answer (counting its earlier part twice is the safe side).
        end = min(_seconds(window.end), math.floor(_seconds(now)))
        self._as_of = math.floor(_seconds(now))
        if end <= start:
            return
        kept: list[_Segment] = []
        for segment in self._ledger:
            for low, high in ((segment.start, min(segment.end, start)),
                              (max(segment.start, end), segment.end)):  # fmt: skip
                if high > low:
                    share = (high - low) / (segment.end - segment.start)
                    kept.append(_Segment(low, high, round(segment.objects * share)))
        kept.append(_Segment(start, end, objects))
        self._ledger = sorted(kept, key=lambda s: s.start)

    def _rate_from(self, windows: Sequence[Window], now: datetime) -> None:
        """How fast other objects arrive: those of the last minute's worth of answered send
        time that are not waited for (kept for the stretch between two answers)."""
        if not windows:
            return
        horizon = _seconds(now) - 60.0
        recent = [s for s in self._ledger if s.end > horizon]
        span = sum(s.end - max(s.start, horizon) for s in recent)
        if span <= 0:
            return
        ours = sum(
            job.objects
            for job in self._jobs.values()
            if job.hi is not None and _seconds(job.guess) > horizon
        ) + sum(n for t, n in self._retired.values() if t > horizon)
        total = sum(s.objects * (s.end - max(s.start, horizon)) / (s.end - s.start) for s in recent)
        self._rate = max(0.0, total - ours) / span
        lowest = min(
            (_seconds(j.lo) for j in self._jobs.values() if j.lo is not None), default=None
        )
        if lowest is not None:
            self._ledger = [s for s in self._ledger if s.end >= lowest]
            self._retired = {k: v for k, v in self._retired.items() if v[0] >= lowest}
            self._crowded = {second for second in self._crowded if second + 1 >= lowest}


def _clusters(
    ranges: Iterable[tuple[float, float, str]],
) -> list[tuple[int, int, list[str]]]:
    """Merge overlapping ranges: ``(start, end, jobs)`` in order."""
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, job in sorted(ranges):
        if merged and start <= merged[-1][1]:
            low, high, members = merged[-1]
            members.append(job)
            merged[-1] = (low, max(high, int(end)), members)
        else:
            merged.append((int(start), int(end), [job]))
    return merged


def _spread(low: float, high: float, objects: float) -> list[tuple[float, float]]:
    if objects <= 0 or high <= low:
        return []
    count = max(1, min(_CHUNKS, math.ceil(high - low)))
    step = (high - low) / count
    return [(low + step * (n + 0.5), objects / count) for n in range(count)]


def _halfway(masses: Mapping[int, float], low: int, high: int) -> int:
    """The whole second before which half of ``masses`` lies, kept within ``[low, high]``."""
    total = sum(masses.values())
    below = 0.0
    for second in sorted(masses):
        below += masses[second]
        if below >= total / 2:
            return min(max(second + 1, low), high)
    return (low + high) // 2


def _within(cover: Window, window: Window) -> bool:
    return cover.start < window.end and window.start < cover.end


def _key(record: StatusRecord) -> tuple[object, ...]:
    return (record.job_id, record.address, record.status_code, record.raw_timestamp)


def _ask_window(client: EcallClient, window: Window) -> tuple[tuple[StatusRecord, ...] | None, int]:
    """A window's records and 0, or None and 1 when eCall refused it (11701)."""
    try:
        return client.get_status(start_date=window.start, end_date=window.end, split=False), 0
    except EcallRequestError as exc:
        if exc.result_code != _TOO_MANY:
            raise
    return None, 1
