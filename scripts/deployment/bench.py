"""Alert latency in the deployment: from a task's failure to the sandbox accepting its alert.

The failing tasks write the moment they raise into the exception text (``failed_at=<epoch>``).
A task callback's alert carries that text; a DAG-level alert carries its run id, and the
moment is read from the failed task's log. The end is the sandbox's ``received_at``.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from airflow_provider_ecall.sandbox import EcallSandbox
from scripts.deployment.components import Api
from scripts.deployment.dags.e2e_numbers import BENCH_FAILURES
from scripts.deployment.scenarios import RUN_TIMEOUT, wait_until

FAILED_AT = re.compile(r"failed_at=(\d+\.\d+)")


@dataclass(frozen=True)
class Latency:
    """Median and maximum over ``count`` failures, in seconds."""

    label: str
    count: int
    median: float
    maximum: float

    def line(self) -> str:
        """One row of the BENCHMARKS.md table."""
        return f"| {self.label} | {self.count} | {self.median:.2f} s | {self.maximum:.2f} s |"


def _summary(label: str, seconds: list[float]) -> Latency:
    if not seconds:
        return Latency(label, 0, float("nan"), float("nan"))
    return Latency(label, len(seconds), statistics.median(seconds), max(seconds))


def task_callbacks(api: Api, sandbox: EcallSandbox) -> Latency:
    """``BENCH_FAILURES`` mapped tasks fail; each one's failure callback sends an alert."""
    run_id = api.trigger("e2e_bench_task")
    api.wait_run("e2e_bench_task", run_id, RUN_TIMEOUT)
    wait_until(lambda: len(sandbox.messages) >= BENCH_FAILURES, 60)
    seconds = []
    for message in sandbox.messages:
        found = FAILED_AT.search(message.message)
        if found:
            seconds.append(message.received_at.timestamp() - float(found.group(1)))
    return _summary("task `on_failure_callback` (worker)", seconds)


def _failed_at(home: Path, run_id: str) -> float | None:
    folder = home / "logs" / "dag_id=e2e_bench_dag" / f"run_id={run_id}"
    for log in folder.rglob("*.log"):
        found = FAILED_AT.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return float(found.group(1))
    return None


def _run_ended(api: Api, run_id: str) -> float:
    ended = api.call("GET", f"/dags/e2e_bench_dag/dagRuns/{run_id}")["end_date"]
    return datetime.fromisoformat(ended.replace("Z", "+00:00")).timestamp()


def dag_callbacks(api: Api, sandbox: EcallSandbox, home: Path) -> list[Latency]:
    """``BENCH_FAILURES`` runs fail; each run's DAG-level callback sends an alert.

    :return: the latency from the task's failure, and from the scheduler marking the run
        failed (the DAG processor's and the notifier's share).
    """
    run_ids = [api.trigger("e2e_bench_dag", f"bench_{i:02d}") for i in range(BENCH_FAILURES)]
    for run_id in run_ids:
        api.wait_run("e2e_bench_dag", run_id, RUN_TIMEOUT)
    wait_until(lambda: len(sandbox.messages) >= BENCH_FAILURES, 90)
    seconds, after_run = [], []
    for message in sandbox.messages:
        run_id = message.message.strip()
        started = _failed_at(home, run_id)
        if started is not None:
            seconds.append(message.received_at.timestamp() - started)
        after_run.append(message.received_at.timestamp() - _run_ended(api, run_id))
    return [
        _summary("DAG-level `on_failure_callback` (DAG processor)", seconds),
        _summary("the same, from the run marked failed", after_run),
    ]
