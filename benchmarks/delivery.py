"""Concurrent delivery waits in one "triggerer" process: the shared poller's query planner
against the poller as it was (one window halved on every 11701) and one poller per wait,
in the same run, against the same sandbox behaviour.

The sandbox runs in this process (its request log counts every ``Api/State`` call and each
11701 it answered); each side's waits run in a fresh process of their own
(``delivery_waiter.py``), so the CPU time and memory figures are the waiting process's
alone. The jobs (one recipient each) are sent evenly over ``SPREAD`` seconds; each wait
starts right after its job was sent (this process writes its JobID to the waiter as a task
would defer) and every job is delivered ``DELAY`` seconds after it was sent: the issue's
load (10,000 jobs over two minutes, delivered after 150 s, 5 s interval) at a third of its
times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from delivery_trace import Refusal, log_windows, refusals, steady_from

from airflow_provider_ecall.sandbox import DeliveryBehaviour, EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV, connection_json

HERE = Path(__file__).resolve().parent
INTERVAL = 2.0
SPREAD = 40.0
DELAY = 50.0
SIDES = ("planner", "halving", "per-wait")


@dataclass(frozen=True)
class WaitRun:
    """One side's figures.

    :param mode: ``planner``, ``halving`` or ``per-wait``.
    :param waits: how many waits ran.
    :param state_requests: ``Api/State`` requests the sandbox answered during the waits.
    :param refused: of which answered 11701 (more than 1,000 status objects).
    :param refusals: each of them: when, in which round and phase, what the window held
        (see ``delivery_trace``: steady state is every wait joined and no more sends).
    :param steady_from: seconds from the first send to the start of steady state.
    :param wall: seconds from the first wait's start until every wait had its event.
    :param cpu: CPU seconds (user + system) of the waiting process during the waits.
    :param rss_growth_mib: peak resident memory minus that before the waits began.
    :param events: events by status.
    :param after_delivery: seconds from the last job's delivery (its send plus ``DELAY``) to
        the last event.
    """

    mode: str
    waits: int
    state_requests: int
    refused: int
    refusals: tuple[Refusal, ...]
    steady_from: float
    wall: float
    cpu: float
    rss_growth_mib: float
    events: dict[str, int]
    after_delivery: float

    @property
    def refused_steady(self) -> int:
        """Refusals in rounds planned in steady state."""
        return sum(1 for r in self.refusals if r.phase == "steady")

    @property
    def refused_ramp(self) -> int:
        """Refusals in rounds planned while jobs were still sent or waits still joining."""
        return sum(1 for r in self.refusals if r.phase == "ramp")

    @property
    def per_interval(self) -> float:
        """``Api/State`` requests per poll interval, on average over the wait."""
        return self.state_requests / (self.wall / INTERVAL)


def _number(n: int) -> str:
    return f"+4179{n:07d}"


def _index(job: str) -> int:
    return int(job.rsplit("-", 1)[1])


def _accept(sandbox: EcallSandbox, job: str, number: str) -> None:
    """Have the sandbox accept one SMS job through its request handler, without HTTP: the
    load generator shares this process with the sandbox and must keep to its schedule of
    250 sends a second at 10,000 waits on a busy machine (the waiters' queries still travel
    over HTTP)."""
    params = {"UserName": sandbox.username, "Password": sandbox.password, "Address": number,
              "Message": "report", "JobID": job}  # fmt: skip
    reply = sandbox._app.dispatch("sms", "POST", params)
    if reply.status != 200:
        raise RuntimeError(f"the sandbox refused job {job}: {reply.status}")


def _state_answers(sandbox: EcallSandbox) -> tuple[int, int]:
    state = [request for request in sandbox.requests if request.endpoint == "state"]
    return len(state), sum(1 for request in state if request.result_code == 11701)


def run_side(mode: str, waits: int) -> WaitRun:
    """Send ``waits`` jobs over ``SPREAD`` s to a fresh sandbox, each wait starting after its
    send, and wait for all of them in one process."""
    with EcallSandbox(delivery=DeliveryBehaviour(delay=DELAY)) as sandbox:
        since = datetime.now(timezone.utc).isoformat()
        before = _state_answers(sandbox)
        windows = log_windows(sandbox, _index)
        sends: list[float] = []
        found = _wait_in_child(sandbox, mode, waits, since, sends)
        after = _state_answers(sandbox)
        return WaitRun(
            mode=mode,
            waits=waits,
            state_requests=after[0] - before[0],
            refused=after[1] - before[1],
            refusals=tuple(refusals(windows, found, sends)),
            steady_from=steady_from(sends[-1], found) - sends[0],
            wall=found["wall"],
            cpu=found["cpu"],
            rss_growth_mib=(found["rss_peak_kib"] - found["rss_before_kib"]) / 1024,
            events=found["events"],
            after_delivery=found["last_event_epoch"] - found["last_send_epoch"] - DELAY,
        )


def _wait_in_child(
    sandbox: EcallSandbox, mode: str, waits: int, since: str, sends: list[float]
) -> dict[str, Any]:
    """Run the waiting process; send the jobs on schedule, telling it each one after it
    was sent (``sends`` gets each one's send time)."""
    env = {**os.environ, CONNECTION_ENV: connection_json(sandbox)}
    command = [sys.executable, str(HERE / "delivery_waiter.py"), mode, str(INTERVAL), since]
    with subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {mode} waiter did not start")
        started = time.monotonic()
        for n in range(waits):
            pause = started + SPREAD * n / waits - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            job = f"bench-{n:05d}"
            _accept(sandbox, job, _number(n))
            sends.append(time.time())
            child.stdin.write(job + "\n")
            child.stdin.flush()
        last_send = sends[-1]
        child.stdin.close()
        output = child.stdout.read()
        if child.wait(timeout=900) != 0:
            raise RuntimeError(f"the {mode} waiter failed")
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    found["last_send_epoch"] = last_send
    return found


def measure(waits: int) -> dict[str, WaitRun]:
    """One run of each side, planner first; a side that failed is reported and left out
    (its figures read 0), not a reason to lose the others'."""
    runs: dict[str, WaitRun] = {}
    for mode in SIDES:
        try:
            runs[mode] = run_side(mode, waits)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"delivery waits, {mode} at {waits:,}: failed ({exc})", flush=True)
            runs[mode] = WaitRun(
                mode, waits, 0, 0, (), 0.0, float("nan"), 0.0, 0.0, {"failed": waits}, 0.0
            )
        print(f"  delivery waits, {mode} at {waits:,}: {summary(runs[mode])}", flush=True)
    return runs


def summary(run: WaitRun) -> str:
    """One side's figures, and a line for each refusal: when, where, what it held."""
    lines = [
        f"{run.state_requests} Api/State queries ({run.per_interval:.2f} per interval), "
        f"refused {run.refused}: {run.refused_steady} in steady state (from "
        f"{run.steady_from:.1f} s), {run.refused_ramp} during the ramp; CPU {run.cpu:.1f} s, "
        f"memory +{run.rss_growth_mib:.1f} MiB, last event {run.after_delivery:.2f} s after "
        f"the last delivery, wall {run.wall:.1f} s, events {run.events}"
    ]
    for r in run.refusals[:20]:
        window = "?" if r.window is None else f"{r.window[0]:.0f}..{r.window[1]:.0f} s"
        estimate = "-" if r.estimate is None else f"{r.estimate:.0f}"
        lines.append(
            f"    11701 {r.phase}: round {r.round} planned at {r.planned_at:.1f} s, window "
            f"{window}, planner thought {estimate}, eCall held {r.held} = {r.joined} known "
            f"to the poller + {r.unjoined} sent, wait not joined + {r.later} sent after planning"
        )
    if len(run.refusals) > 20:
        lines.append(f"    ... and {len(run.refusals) - 20} more")
    return "\n".join(lines)
