"""One "triggerer": N EcallDeliveryTrigger waits on one event loop, as a triggerer runs them.

Run by ``benchmarks/delivery.py`` in a process of its own, so its CPU time and memory are
its own: ``python delivery_waiter.py MODE JOBS_FILE INTERVAL SENT_AFTER``, with MODE
``shared`` (the provider's shared poller) or ``per-wait`` (each trigger its own poller and
client — what a trigger that makes its own hook does). The connection comes from
``AIRFLOW_CONN_ECALL_DEFAULT``. Prints ``ready`` when its waits start, then one JSON
line: events by status, wall and CPU seconds of the wait, resident memory before the waits
and at their peak.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path


def rss_kib() -> int:
    """Resident set size now, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def wait_all(
    job_ids: list[str], interval: float, sent_after: str, shared: bool
) -> Counter[str]:
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

    deadline = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()

    async def one(job: str) -> str:
        trigger = EcallDeliveryTrigger(
            job_ids=[job],
            poll_interval=interval,
            deadline=deadline,
            sent_after=sent_after,
            share_poller=shared,
        )
        async for event in trigger.run():
            return str(event.payload["status"])
        return "none"

    return Counter(await asyncio.gather(*(one(job) for job in job_ids)))


def main() -> int:
    mode, jobs_file, interval, sent_after = sys.argv[1:5]
    logging.disable(logging.WARNING)
    job_ids = Path(jobs_file).read_text().split()
    import airflow_provider_ecall.triggers.ecall  # noqa: F401 - imports out of the measurement

    print("ready", flush=True)
    before_rss = rss_kib()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    events = asyncio.run(wait_all(job_ids, float(interval), sent_after, mode == "shared"))
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "events": dict(events),
                "wall": wall,
                "cpu": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime),
                "rss_before_kib": before_rss,
                "rss_peak_kib": after.ru_maxrss,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
