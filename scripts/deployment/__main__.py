"""``make e2e``: the provider in a real Airflow 3.3 deployment, with faults injected.

Starts, as processes owned by this run, on free loopback ports: a PostgreSQL cluster
(Airflow's metadata database; initdb in a temporary directory), Redis (the Celery broker),
and Airflow's api-server, scheduler, dag-processor, triggerer and a Celery worker
(``CeleryExecutor``). One eCall sandbox per scenario runs in this process, each with a journal.
DAG runs are triggered through the REST API, or by the sandbox: inbound SMS for an asset
watcher and the escalation example, callbacks to the receiver on the api-server. Each
scenario is judged on what its sandbox accepted. Everything is stopped at the end, also on
failure or Ctrl-C.

Logs stay in ``.e2e/run/`` (process output, Airflow's task logs, the sandbox journals).
``E2E_SKIP_BENCH=1`` skips the latency figures; ``E2E_SKIP_WATCHDOG=1`` the watchdog
scenarios (``scripts/deployment/watchdog.py``, last: they stop Airflow components);
``E2E_SKIP_APPROVALS=1`` the approval scenarios (``scripts/deployment/approvals.py``, side by
side with the hearing-back ones; their sandbox journals are printed after the table).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from airflow_provider_ecall.sandbox import EcallSandbox
from scripts.deployment import bench as _e2e_bench
from scripts.deployment.approvals import APPROVALS, Approvals, approval_settings
from scripts.deployment.approvals import DAG_IDS as APPROVAL_DAGS
from scripts.deployment.callbacks import Callbacks, callback_settings
from scripts.deployment.components import (
    ROOT,
    Api,
    Deployment,
    component_logs,
    configure,
    migrate,
    start_components,
    start_worker,
)
from scripts.deployment.dags.e2e_numbers import BENCH_FAILURES, BENCH_PARALLEL
from scripts.deployment.hearing import Background, Hearing, example_settings
from scripts.deployment.scenarios import (
    Scenarios,
    Verdict,
    judge_logs,
    safely,
    safely_all,
    table,
)
from scripts.deployment.services import Processes, start_postgres, start_redis
from scripts.deployment.watchdog import WatchdogScenarios, health_settings

RUN_DIR = ROOT / ".e2e" / "run"
#: Whether the watchdog scenarios run (all but ``E2E_SKIP_WATCHDOG=1``).
WATCHDOG = os.environ.get("E2E_SKIP_WATCHDOG") != "1"
#: One sandbox (and connection ``ecall_<name>``) per scenario and per alert destination.
SANDBOXES = (
    "lost_answer",
    "worker_killed",
    "zombie_alert",
    "error_window",
    "exhausted",
    "oncall",
    "team_lead",
    "deadline",
    "rerun",
    "mapped",
    "bench_task",
    "bench_dag",
    "watcher",
    "ack_escalation",
    "delivery_wake",
    "signed_wake",
    "reply_wake",
    "watchdog",
    "approval",
)
#: The example DAGs (``scripts/deployment/dags/e2e_examples.py``) send through ``ecall_default``.
DEFAULT_SANDBOX = "ack_escalation"
#: The DAGs of the hearing-back scenarios, whose logs the leak check must have read.
HEARING_DAGS = (
    "e2e_watcher",
    "e2e_callback_reply",
    "e2e_delivery_reports",
    "e2e_delivery_wake",
    "e2e_signed_wake",
    "e2e_reply_wake",
    "ecall_ack_escalation",
)
if APPROVALS:
    HEARING_DAGS += APPROVAL_DAGS
#: Every DAG a scenario runs; the DAG processor must have them all before anything starts.
DAG_IDS = ("e2e_lost_answer", "e2e_bench_dag", *HEARING_DAGS)
SANDBOX_USER = "e2e-user"


def step(text: str, started: float) -> None:
    """One progress line with the time since the start."""
    print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)


def start_sandboxes(stack: ExitStack, password: str) -> dict[str, EcallSandbox]:
    """Every sandbox, each journaling to ``.e2e/run/journal-<name>.jsonl``."""
    boxes = {}
    for name in SANDBOXES:
        sandbox = EcallSandbox(
            username=SANDBOX_USER, password=password, journal=RUN_DIR / f"journal-{name}.jsonl"
        )
        boxes[name] = stack.enter_context(sandbox)
    return boxes


def connections(boxes: dict[str, EcallSandbox]) -> dict[str, str]:
    """``ecall_<name>`` connections, one per sandbox, and ``ecall_default``."""
    named = {**{f"ecall_{name}": box for name, box in boxes.items()}}
    named["ecall_default"] = boxes[DEFAULT_SANDBOX]
    return {
        conn_id: json.dumps(
            {
                "conn_type": "ecall",
                "host": box.base_url,
                "login": box.username,
                "password": box.password,
            }
        )
        for conn_id, box in named.items()
    }


@contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for the database and Redis, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ecall-e2e-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def deploy(
    procs: Processes,
    work: Path,
    boxes: dict[str, EcallSandbox],
    keys: tuple[str, str],
    t0: float,
) -> Deployment:
    """Postgres, Redis, ``db migrate`` and the five Airflow components.

    :param keys: the callback receiver's URL token and its URL signing key.
    """
    database = start_postgres(procs, work)
    broker = start_redis(procs, work)
    step(f"PostgreSQL and Redis up ({database.rsplit('@', 1)[1]}, {broker})", t0)
    extra = {**callback_settings(*keys), **example_settings()}
    if APPROVALS:
        extra.update(approval_settings("ecall_approval"))
    if WATCHDOG:
        extra.update(health_settings())
    deployment = configure(RUN_DIR / "airflow", database, broker, connections(boxes), extra)
    migrate(procs, deployment)
    step("airflow db migrate done", t0)
    start_components(procs, deployment)
    step(f"api-server, scheduler, dag-processor, triggerer, worker up ({deployment.api_url})", t0)
    return deployment


def hearing_back(
    deployment: Deployment,
    boxes: Mapping[str, EcallSandbox],
    callbacks: Callbacks,
    approvals: Approvals | None,
    t0: float,
) -> Background:
    """Start the hearing-back scenarios (issue 13) and the approval ones (issue 19), each in
    a thread of its own."""
    hearing = Hearing(deployment, boxes)
    plays: dict[str, Callable[[], Verdict | list[Verdict]]] = {
        "watcher": hearing.watcher,
        "ack_escalation": hearing.ack_escalation,
        "callback_reply": callbacks.reply,
        "callback_delivery_wake": callbacks.delivery_wake,
        "callback_signed_wake": callbacks.signed_wake,
        "callback_reply_wake": callbacks.reply_wake,
    }
    if approvals is not None:
        plays["approval"] = approvals.mapped_and_unmapped
        plays["approval_late"] = approvals.late
    return Background(plays, lambda name: step(f"{name} done", t0))


def scenarios(
    procs: Processes,
    deployment: Deployment,
    plays: Scenarios,
    callbacks: Callbacks,
    approvals: Approvals | None,
    t0: float,
) -> list[Verdict]:
    """Kill a worker mid-send first (alone), then run the other scenarios side by side."""
    worker = next(proc for proc in procs.started if proc.name == "celery-worker-1")

    def kill() -> None:
        procs.kill(worker)
        step("celery-worker-1 killed (SIGKILL to its process group); starting celery-worker-2", t0)
        start_worker(procs, deployment, "celery-worker-2")

    problem = plays.kill_worker_mid_send(kill)
    plays.arm_and_start()
    hearing = hearing_back(deployment, plays.sandboxes, callbacks, approvals, t0)
    step("faults armed, runs triggered, hearing-back scenarios started; waiting", t0)
    judges = {
        "lost_answer": lambda: plays.judge_single_send("lost_answer", 2, state_asked=True),
        "error_window": lambda: plays.judge_single_send("error_window", 3, state_asked=False),
        "exhausted": plays.judge_exhausted,
        "dag_failure": lambda: plays.judge_callback(
            "dag_failure", "team_lead", "e2e_dag_failure", "failed"
        ),
        "deadline": lambda: plays.judge_callback(
            "deadline", "deadline", "missed its deadline", "success"
        ),
        "rerun": plays.judge_rerun,
        "mapped": plays.judge_mapped,
        "zombie_alert": lambda: plays.judge_callback(
            "zombie_alert", "zombie_alert", "lost its worker", "failed"
        ),
        "worker_killed": lambda: plays.judge_single_send("worker_killed", 2, state_asked=True),
    }
    verdicts = [safely(name, judge) for name, judge in judges.items()]
    if problem:
        verdicts[-1] = Verdict("worker_killed", verdicts[-1].expected, problem, False)
    return [verdicts[-1], verdicts[-2], *verdicts[:-2], *hearing.verdicts()]


def bench(api: Api, boxes: dict[str, EcallSandbox], home: Path, t0: float) -> list[str]:
    """The latency rows for BENCHMARKS.md."""
    failing = f"{BENCH_FAILURES} failing mapped tasks, then {BENCH_FAILURES} failing runs"
    step(f"latency: {failing}, {BENCH_PARALLEL} at a time", t0)
    task = _e2e_bench.task_callbacks(api, boxes["bench_task"])
    dag = _e2e_bench.dag_callbacks(api, boxes["bench_dag"], home)
    return [task.line(), *(latency.line() for latency in dag)]


def print_journals(journals: Mapping[str, list[str]]) -> None:
    """What the approval sandbox accepted, scenario by scenario."""
    for name, lines in journals.items():
        print(f"\nSandbox journal, {name}:")
        print("\n".join(f"  {line}" for line in lines) or "  (nothing)")


def main() -> int:
    t0 = time.monotonic()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    (RUN_DIR / "logs").mkdir(parents=True)
    password, token = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
    signing_key = secrets.token_urlsafe(32)
    procs = Processes(RUN_DIR / "logs")
    verdicts: list[Verdict] = []
    rows: list[str] = []
    with ExitStack() as stack, workdir() as work:
        stack.callback(procs.stop_all)
        boxes = start_sandboxes(stack, password)
        deployment = deploy(procs, work, boxes, (token, signing_key), t0)
        callbacks = Callbacks(deployment, boxes, token, signing_key)
        approvals = None
        if APPROVALS:
            approvals = Approvals(deployment, boxes["approval"], callbacks.signed_url_seen)
        api = Api(deployment)
        api.wait_for_dags(list(DAG_IDS), 120)
        step("DAGs parsed", t0)
        plays = Scenarios(api, boxes)
        verdicts = scenarios(procs, deployment, plays, callbacks, approvals, t0)
        if os.environ.get("E2E_SKIP_BENCH") != "1":
            rows = bench(api, boxes, deployment.home, t0)
        if WATCHDOG:  # last: it stops Airflow components
            started = time.monotonic()
            watchdog = WatchdogScenarios(
                procs, deployment, api, boxes["watchdog"], lambda text: step(text, t0)
            )
            verdicts += safely_all("watchdog", watchdog.run)
            step(f"watchdog scenarios done in {time.monotonic() - started:.0f} s", t0)
        step("stopping every process", t0)
    logs = component_logs(RUN_DIR / "logs", RUN_DIR / "airflow")
    verdicts.append(judge_logs(logs, [password, *callbacks.secrets], list(HEARING_DAGS)))
    print("\n" + table(verdicts))
    if approvals is not None:
        print_journals(approvals.journals)
    if rows:
        print("\n| alert | failures | median | max |\n|---|---|---|---|\n" + "\n".join(rows))
    ok = all(verdict.ok for verdict in verdicts)
    print(f"\nLogs and journals: {RUN_DIR.relative_to(ROOT)}/")
    print(f"{'OK' if ok else 'FAILED'} in {time.monotonic() - t0:.0f} s")
    return 0 if ok else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds the ExitStack: every process is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every process of the run was stopped", file=sys.stderr)
        sys.exit(130)
