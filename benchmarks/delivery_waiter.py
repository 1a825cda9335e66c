"""One "triggerer": EcallDeliveryTrigger waits on one event loop, as a triggerer runs them.

Run by ``benchmarks/delivery.py`` in a process of its own, so its CPU time and memory are
its own: ``python delivery_waiter.py MODE INTERVAL SENT_AFTER``, with MODE

- ``planner``: the provider's shared poller and its query planner;
- ``halving``: the shared poller as it was before the planner — one window over every
  wait's jobs from the earliest ``sent_after``, halved by the client on every 11701 (on
  whole seconds since the client's fix), plus one JobID a round for a job the window missed
  (the baseline, measured in the same run);
- ``per-wait``: each trigger its own poller and client (what a trigger that makes its own
  hook does).

The connection comes from ``AIRFLOW_CONN_ECALL_DEFAULT``. It prints ``ready``, then starts
one wait per JobID line read from stdin (the benchmark writes a line right after that job
was sent) until stdin closes, and prints one JSON line: events by status, the seconds from
the first wait's start to the last event and that event's epoch time, CPU seconds, resident
memory before and at peak, and what ``delivery_trace`` recorded: when each wait joined its
poller, each round and its window queries (the planner's estimates, eCall's refusals).
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from delivery_trace import WaiterTrace, record_joins, traced_planner_fetch, traced_rounds

CONN_ID = "ecall_default"


def rss_kib() -> int:
    """Resident set size now, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def halving_fetch(client_factory: Callable[[], Any]) -> Any:
    """The poller's fetch before the planner: one window from the earliest ``sent_after``
    (less the margin) to now (plus it), halved by the client on every 11701, and one job
    the window did not list asked by JobID a round (round-robin)."""
    from airflow_provider_ecall.client.delivery import WINDOW_MARGIN
    from airflow_provider_ecall.client.planner import Answer, Want

    made: list[Any] = []
    probe = [0]

    def fetch(wants: Sequence[Want], now: datetime) -> Answer:
        if not made:
            made.append(client_factory())
        client = made[0]
        jobs = sorted({w.job_id for w in wants})
        known = [w.sent_after for w in wants if w.sent_after is not None]
        if len(jobs) <= 1 or not known:
            found = {job: records for job in jobs if (records := client.get_status(job_id=job))}
            return Answer(found, by_job=len(jobs), objects=sum(map(len, found.values())))
        since = min(known)
        window = client.get_status(
            start_date=since - WINDOW_MARGIN, end_date=max(now, since) + WINDOW_MARGIN
        )
        grouped: dict[str, list[Any]] = {}
        for record in window:
            grouped.setdefault(record.job_id or "", []).append(record)
        missing = [job for job in jobs if job not in grouped]
        if missing:
            job = missing[probe[0] % len(missing)]
            probe[0] += 1
            if records := client.get_status(job_id=job):
                grouped[job] = list(records)
        found = {job: tuple(grouped[job]) for job in jobs if job in grouped}
        return Answer(found, windows=1, objects=len(window))

    return fetch


async def wait_all(
    mode: str, interval: float, sent_after: str, trace: WaiterTrace
) -> tuple[Counter[str], float]:
    from airflow_provider_ecall.triggers import _poller
    from airflow_provider_ecall.triggers._delivery import _client_of
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

    loop = asyncio.get_running_loop()
    record_joins(trace)
    client = lambda: _client_of(CONN_ID)  # noqa: E731
    if mode == "halving":  # the connection's shared poller, with the former fetch
        _poller.shared_poller(CONN_ID, lambda: traced_rounds(halving_fetch(client), trace))
    elif mode == "planner":  # the provider's own fetch, its estimates and queries noted
        _poller.shared_poller(CONN_ID, lambda: traced_planner_fetch(client, trace))
    deadline = (datetime.now(timezone.utc) + timedelta(minutes=15)).isoformat()
    tasks: list[asyncio.Task[str]] = []
    first: list[float] = []
    closed = asyncio.Event()

    async def one(job: str) -> str:
        trigger = EcallDeliveryTrigger(
            job_ids=[job],
            ecall_conn_id=CONN_ID,
            poll_interval=interval,
            deadline=deadline,
            sent_after=sent_after,
            share_poller=mode != "per-wait",
        )
        async for event in trigger.run():
            return str(event.payload["status"])
        return "none"

    def start(job: str) -> None:
        if not first:
            first.append(time.monotonic())
        tasks.append(loop.create_task(one(job)))

    def read() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(start, line.strip())
        loop.call_soon_threadsafe(closed.set)

    threading.Thread(target=read, daemon=True).start()
    await closed.wait()
    events = await asyncio.gather(*tasks)
    return Counter(events), time.monotonic() - (first[0] if first else time.monotonic())


def main() -> int:
    mode, interval, sent_after = sys.argv[1:4]
    logging.disable(logging.WARNING)
    import airflow_provider_ecall.triggers.ecall  # noqa: F401 - imports out of the measurement

    print("ready", flush=True)
    before_rss = rss_kib()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    trace = WaiterTrace()
    events, wall = asyncio.run(wait_all(mode, float(interval), sent_after, trace))
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "events": dict(events),
                "wall": wall,
                "cpu": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime),
                "rss_before_kib": before_rss,
                "rss_peak_kib": after.ru_maxrss,
                "last_event_epoch": time.time(),  # the waits ended just now
                **trace.to_json(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
