"""1,000 concurrent delivery waits in one "triggerer" process: the shared poller against one
poller per wait, in the same run, against the same sandbox behaviour.

The sandbox runs in this process (its request log counts every ``Api/State`` call); each
side's waits run in a fresh process of their own (``delivery_waiter.py``), so the CPU time
and memory figures are the waiting process's alone. Every job has one recipient, is sent
before the waits start and stays pending until the waits have run ``PENDING`` seconds (a
few poll intervals); then every job turns delivered and each wait gets its event.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.sandbox import DeliveryBehaviour, EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV, connection_json

HERE = Path(__file__).resolve().parent
INTERVAL = 1.0
PENDING = 5.0


@dataclass(frozen=True)
class WaitRun:
    """One side's figures.

    :param mode: ``shared`` or ``per-wait``.
    :param waits: how many waits ran.
    :param state_requests: ``Api/State`` requests the sandbox answered during the waits.
    :param wall: seconds until every wait had its event.
    :param cpu: CPU seconds (user + system) of the waiting process during the waits.
    :param rss_growth_mib: peak resident memory minus that before the waits began.
    :param events: events by status.
    """

    mode: str
    waits: int
    state_requests: int
    wall: float
    cpu: float
    rss_growth_mib: float
    events: dict[str, int]

    @property
    def per_interval(self) -> float:
        """``Api/State`` requests per poll interval, on average over the wait."""
        return self.state_requests / (self.wall / INTERVAL)


def _number(n: int) -> str:
    return f"+4179{n:07d}"


def _send_jobs(sandbox: EcallSandbox, count: int) -> list[str]:
    jobs = [f"bench-{n:05d}" for n in range(count)]
    with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as client:
        for n, job in enumerate(jobs):
            client.send(SmsMessage(address=_number(n), message="report", job_id=job))
    return jobs


def _state_requests(sandbox: EcallSandbox) -> int:
    return sum(1 for request in sandbox.requests if request.endpoint == "state")


def run_side(mode: str, waits: int) -> WaitRun:
    """Send ``waits`` jobs to a fresh sandbox and wait for all of them in one process."""
    pending = DeliveryBehaviour(delay=0, never=frozenset(_number(n) for n in range(waits)))
    with EcallSandbox(delivery=pending) as sandbox:
        since = datetime.now(timezone.utc).isoformat()
        jobs = _send_jobs(sandbox, waits)
        with tempfile.NamedTemporaryFile("w", suffix=".jobs", delete=False) as listing:
            listing.write("\n".join(jobs))
        before = _state_requests(sandbox)
        try:
            output = _wait_in_child(sandbox, mode, listing.name, since)
        finally:
            Path(listing.name).unlink()
        found = json.loads(output.strip().splitlines()[-1])
        return WaitRun(
            mode=mode,
            waits=waits,
            state_requests=_state_requests(sandbox) - before,
            wall=found["wall"],
            cpu=found["cpu"],
            rss_growth_mib=(found["rss_peak_kib"] - found["rss_before_kib"]) / 1024,
            events=found["events"],
        )


def _wait_in_child(sandbox: EcallSandbox, mode: str, jobs_file: str, since: str) -> str:
    """Run the waiting process; let the jobs resolve ``PENDING`` s after its waits began."""
    env = {**os.environ, CONNECTION_ENV: connection_json(sandbox)}
    command = [sys.executable, str(HERE / "delivery_waiter.py"), mode, jobs_file,
               str(INTERVAL), since]  # fmt: skip
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {mode} waiter did not start")
        time.sleep(PENDING)
        sandbox.configure_delivery(never=())
        output = child.stdout.read()
        if child.wait(timeout=600) != 0:
            raise RuntimeError(f"the {mode} waiter failed")
    return output


def measure(waits: int, rounds: int) -> list[tuple[WaitRun, WaitRun]]:
    """``rounds`` pairs of (shared, per-wait) runs, the order alternating per round."""
    pairs = []
    for number in range(rounds):
        order = ["shared", "per-wait"] if number % 2 == 0 else ["per-wait", "shared"]
        found = {mode: run_side(mode, waits) for mode in order}
        pairs.append((found["shared"], found["per-wait"]))
    return pairs
