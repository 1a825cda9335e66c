"""Storm control: at most one alert per ``dedup_key`` per ``dedup_window``, across tasks,
runs, threads and processes, with eCall's JobIDs as the only state."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_ecall.notifications._policy import CLOCK, storm_job_id
from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from tests.airflow.conftest import StatsSpy
from tests.contexts import failure_context

pytestmark = pytest.mark.compat(feature="Alerts: storm control (dedup_key)")

NUMBER = "+41791112233"

TEN_FAILING_TASKS = """
shared = EcallSmsNotifier(
    address="{number}", dedup_key="{{{{ dag.dag_id }}}}", dedup_window=timedelta(minutes=30)
)
args = {{"on_failure_callback": shared}}
with DAG("storm", schedule=None, start_date=START, default_args=args) as dag:
    for n in range(10):
        @task(task_id=f"load_{{n}}")
        def load():
            raise RuntimeError("the warehouse is down")

        load()
"""


#: Ten minutes into a 30-minute window: the policy's clock stays there while the runs last.
#: On the wall clock a run that crosses :00 or :30 (ten failing tasks take ~20 s under
#: Airflow 3.2's dag.test()) rightly alerts once in each window, and the test would flake.
MID_WINDOW = datetime(2026, 12, 4, 10, 10, tzinfo=timezone.utc)


def test_ten_tasks_failing_at_once_with_a_shared_key_send_one_alert_per_window(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    metrics: StatsSpy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CLOCK, "now", lambda: MID_WINDOW)
    sandbox = ecall_sandbox_connection
    dag = load_dag(TEN_FAILING_TASKS.format(number=NUMBER))
    assert dag.test().state == "failed"
    (sent,) = sandbox.messages
    assert sent.message.startswith("Airflow: task storm.load_")
    assert sent.job_id is not None
    assert sent.job_id.startswith("afd-")
    assert metrics.counts["ecall.alert.sent"] == 1
    assert metrics.counts["ecall.alert.duplicates_skipped"] == 9
    # Every alert asked Api/State once for the storm JobID; one sent.
    assert sum(r.endpoint == "state" for r in sandbox.requests) == 10
    # A second run in the same window stays silent too (the key is the DAG, not the run).
    assert dag.test().state == "failed"
    assert len(sandbox.messages) == 1


def _alert_from_a_process(index: int, start: object) -> None:
    dag = DAG("storm_processes", schedule=None)
    notifier = EcallSmsNotifier(address=NUMBER, dedup_key="{{ dag.dag_id }}")
    start.wait()  # type: ignore[attr-defined]
    notifier(failure_context(dag, index))


@pytest.mark.parametrize("workers", ["threads", "processes"])
def test_ten_alerts_racing_on_one_machine_send_one(
    ecall_sandbox_connection: EcallSandbox, workers: str
) -> None:
    """The "ask, then send" of ten simultaneous alerts is serialised by a machine-wide lock:
    the later ones find the first's job in ``Api/State``."""
    if workers == "threads":
        start: object = threading.Barrier(10)
        runners: list[threading.Thread | multiprocessing.Process] = [
            threading.Thread(target=_alert_from_a_process, args=(i, start)) for i in range(10)
        ]
    else:
        forked = multiprocessing.get_context("fork")
        start = forked.Barrier(10)
        runners = [forked.Process(target=_alert_from_a_process, args=(i, start)) for i in range(10)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(60)
    assert len(ecall_sandbox_connection.messages) == 1
    assert sum(r.endpoint == "state" for r in ecall_sandbox_connection.requests) == 10


def test_other_keys_and_other_windows_alert_again(ecall_sandbox_connection: EcallSandbox) -> None:
    dag = DAG("windows", schedule=None)
    window = timedelta(seconds=1)

    def alert(key: str) -> None:
        EcallSmsNotifier(address=NUMBER, dedup_key=key, dedup_window=window)(
            failure_context(dag, 0)
        )

    # Start just after a window boundary so the first three alerts share one window.
    time.sleep(1 - time.time() % 1 + 0.01)
    alert("warehouse")
    alert("warehouse")
    alert("{{ ti.task_id }}")  # another key: its own alert
    time.sleep(1.05)  # the next window
    alert("warehouse")
    assert len(ecall_sandbox_connection.messages) == 3


def test_storm_job_ids_follow_the_window_and_the_recipients() -> None:
    window = timedelta(minutes=30)
    at = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
    same = storm_job_id("k", window, "sms", (NUMBER,), at + timedelta(minutes=29, seconds=59))
    assert storm_job_id("k", window, "sms", (NUMBER,), at) == same
    assert storm_job_id("k", window, "sms", (NUMBER,), at + timedelta(minutes=30)) != same
    assert storm_job_id("k", window, "voice", (NUMBER,), at) != same
    assert storm_job_id("k", window, "sms", ("+41790000000",), at) != same
    assert storm_job_id("k", timedelta(minutes=31), "sms", (NUMBER,), at) != same
    assert len(same) <= 47  # room for a batch suffix within eCall's 50 characters


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dedup_window": timedelta(minutes=5)}, "dedup_window"),  # no key
        ({"dedup_key": "k", "dedup_window": timedelta(0)}, "dedup_window"),
        ({"dedup_key": "k", "dedup_window": "30m"}, "dedup_window"),
        ({"dedup_key": "k", "job_id": "mine"}, "dedup_key"),
    ],
)
def test_bad_storm_options_fail_at_parse_naming_the_field(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        EcallSmsNotifier(address=NUMBER, **options)  # type: ignore[arg-type]
