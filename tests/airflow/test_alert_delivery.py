"""An alert survives a hiccup: bounded retries with one JobID and an ``Api/State`` check
before every resend, a fallback host, metrics and one ERROR line when it is lost.

Real DAG runs (``dag.test()``) against the sandbox; its fault injection plays eCall's
outages. An outage "for N seconds" starts at the first faulted request, so it always falls
on the alert however long Airflow takes to get there.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from airflow_provider_ecall.client import EcallServerError
from airflow_provider_ecall.notifications import _dispatch
from airflow_provider_ecall.notifications.alert_ids import Failure
from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG, airflow_at_least
from tests.airflow.conftest import StatsSpy, ti_states

pytestmark = pytest.mark.compat(feature="Alerts: bounded retries, one JobID, fallback URL")

NUMBER = "+41791112233"

FAILING_DAG = """
with DAG("{dag_id}", schedule=None, start_date=START) as dag:
    @task(on_failure_callback=EcallSmsNotifier(address="{number}"{options}))
    def load():
        raise RuntimeError("disk full")

    load()
"""


def call_lost(notifier: EcallSmsNotifier, context: dict[str, object], error: type) -> None:
    """Call a notifier whose alert is lost: Airflow 3.1+ re-raises the notifier's error,
    2.11 and 3.0 log it and return."""
    if airflow_at_least("3.1"):
        with pytest.raises(error):
            notifier(context)
    else:
        notifier(context)


def error_lines(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> list[str]:
    """Our ERROR lines: Airflow 3 logs notifiers through structlog to stdout, 2.11 through
    the standard logging module."""
    lines = capsys.readouterr().out.splitlines() + [r.getMessage() for r in caplog.records]
    return [line for line in lines if "NOT SENT" in line]


def outage(sandbox: EcallSandbox, seconds: float) -> threading.Thread:
    """eCall answers 503 to everything for ``seconds`` from the first request that hits it."""
    sandbox.inject(status=503, times=100_000)

    def end_it() -> None:
        deadline = time.monotonic() + 120
        while not any(r.status == 503 for r in sandbox.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(seconds)
        sandbox.clear_faults()

    thread = threading.Thread(target=end_it, daemon=True)
    thread.start()
    return thread


def test_ecall_failing_for_two_seconds_during_a_failure_gives_exactly_one_alert(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, metrics: StatsSpy
) -> None:
    sandbox = ecall_sandbox_connection
    dag = load_dag(FAILING_DAG.format(dag_id="hiccup", number=NUMBER, options=""))
    ender = outage(sandbox, 2.0)
    run = dag.test()
    ender.join(5)
    assert ti_states(run)["load"] == ("failed", 1)
    (sent,) = sandbox.messages
    assert sent.message.startswith("Airflow: task hiccup.load failed (try 1)")
    assert sent.job_id is not None
    assert sent.job_id.startswith("afa-")
    refused = [r for r in sandbox.requests if r.status == 503]
    sms = [r for r in sandbox.requests if r.endpoint == "sms"]
    assert len(refused) >= 2  # the first send and at least one resend's status check
    assert all(r.params["JobID"] == sent.job_id for r in sms)  # one JobID for every try
    state_checks = [r for r in sandbox.requests if r.endpoint == "state"]
    assert len(state_checks) >= 1  # asked before the resend
    assert metrics.counts["ecall.alert.sent"] == 1
    assert metrics.counts["ecall.alert.retries"] >= 1
    assert "ecall.alert.failed" not in metrics.counts


def test_an_alert_whose_answer_was_lost_is_not_sent_again(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    sandbox = ecall_sandbox_connection
    sandbox.inject(endpoint="sms", drop=True, accept=True)  # eCall took it, the answer broke
    dag = DAG("lost_answer", schedule=None)
    EcallSmsNotifier(address=NUMBER, message="once")(
        {"dag": dag, "run_id": "manual__1", "reason": "task_failure"}
    )
    assert [m.message for m in sandbox.messages] == ["once"]
    assert [r.endpoint for r in sandbox.requests] == ["sms", "state"]


def test_a_task_alert_is_found_by_the_prefix_of_its_task_instance_try(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    """The watchdog's sweeper knows a failure only from Airflow's REST API (DAG, run, task,
    map index, try): that is enough to find the notifier's alert in eCall's records."""
    dag = load_dag(FAILING_DAG.format(dag_id="discoverable", number=NUMBER, options=""))
    run = dag.test()
    state, attempt = ti_states(run)["load"]
    assert state == "failed"
    (sent,) = ecall_sandbox_connection.messages
    assert sent.job_id is not None
    failure = Failure("discoverable", run.run_id, "load", "-1", str(attempt))
    assert sent.job_id.startswith(failure.prefix())
    assert not sent.job_id.startswith(Failure("discoverable", run.run_id).prefix())


def test_the_same_alert_gets_the_same_job_id_and_another_alert_another(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    dag = DAG("job_ids", schedule=None)
    context = {"dag": dag, "run_id": "manual__1", "reason": "task_failure"}
    EcallSmsNotifier(address=f"{NUMBER}; +41791112244")(context)
    EcallSmsNotifier(address=["+41791112244", NUMBER])(context)  # same recipients
    EcallSmsNotifier(address=NUMBER)(context)
    EcallSmsNotifier(address=NUMBER)({**context, "run_id": "manual__2"})
    first, same, fewer, other_run = (m.job_id for m in ecall_sandbox_connection.messages)
    assert first == same
    assert len({first, fewer, other_run}) == 3
    assert first is not None
    assert first.startswith(Failure("job_ids", "manual__1").prefix())  # the run's DAG alert


def test_retries_are_bounded_and_a_lost_alert_logs_one_clear_error_line(
    ecall_sandbox_connection: EcallSandbox,
    metrics: StatsSpy,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = ecall_sandbox_connection
    sandbox.inject(status=503, times=100)
    dag = DAG("lost_alert", schedule=None)
    notifier = EcallSmsNotifier(address=NUMBER, message="x", max_attempts=2)
    context = {"dag": dag, "run_id": "r", "reason": "task_failure"}
    call_lost(notifier, context, EcallServerError)
    assert sandbox.messages == []
    # attempt 1: the send; attempt 2: the status check fails, so nothing is resent blindly
    assert [r.endpoint for r in sandbox.requests] == ["sms", "state"]
    line = error_lines(capsys, caplog)[0]
    assert "after 2 attempt(s)" in line
    assert "(HTTP 503, result code None)" in line
    assert "EcallServerError" in line
    assert "check eCall's service status" in line
    assert metrics.counts == {"ecall.alert.retries": 1, "ecall.alert.failed": 1}
    (spent,) = metrics.timings["ecall.alert.duration"]
    assert isinstance(spent, timedelta)
    assert spent > timedelta(0)


class Clock:
    """A clock for the notifier's retry loop: ``sleep`` returns at once and moves the time on,
    so the attempts a budget allows are counted, not raced against a loaded machine."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("budget", "attempts"), [(6.9, 3), (7.0, 4)])
def test_the_retry_time_bounds_the_attempts(
    ecall_sandbox_connection: EcallSandbox,
    monkeypatch: pytest.MonkeyPatch,
    budget: float,
    attempts: int,
) -> None:
    sandbox = ecall_sandbox_connection
    sandbox.inject(status=503, times=100)
    clock = Clock()
    monkeypatch.setattr(_dispatch, "time", clock)
    notifier = EcallSmsNotifier(
        address=NUMBER, message="x", max_attempts=10, max_retry_time=timedelta(seconds=budget)
    )
    call_lost(notifier, {"dag": DAG("bounded", schedule=None), "run_id": "r"}, EcallServerError)
    # Waits of 1, 2, 4, 8 s, and a new attempt only if it would start within the budget:
    # 6.9 s: the fourth would start at 7 s, so three; 7.0 s: it starts, the fifth (15 s) not.
    waits = [1.0, 2.0, 4.0][: attempts - 1]
    assert clock.slept == waits
    assert [r.endpoint for r in sandbox.requests] == ["sms"] + ["state"] * (attempts - 1)
    assert sandbox.messages == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"max_retry_time": "soon"}, "max_retry_time"),
        ({"max_retry_time": timedelta(0)}, "max_retry_time"),
    ],
)
def test_bad_retry_options_fail_at_parse_naming_the_field(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        EcallSmsNotifier(address=NUMBER, **options)  # type: ignore[arg-type]


def _refusing_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_connections_fallback_url_carries_the_alert_when_the_host_is_down(
    load_dag: Callable[..., DAG], ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {
        "conn_type": "ecall",
        "host": _refusing_url(),
        "login": ecall_sandbox.username,
        "password": ecall_sandbox.password,
        "extra": {"fallback_url": ecall_sandbox.base_url},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ECALL_DEFAULT", json.dumps(connection))
    dag = load_dag(FAILING_DAG.format(dag_id="fallback", number=NUMBER, options=""))
    dag.test()
    (sent,) = ecall_sandbox.messages
    assert sent.message.startswith("Airflow: task fallback.load failed")


def test_a_remote_plain_http_fallback_is_refused_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_ecall.client import EcallValidationError
    from airflow_provider_ecall.hooks.ecall import EcallHook

    connection = {
        "conn_type": "ecall",
        "host": "url.ecall.ch",
        "login": "u",
        "password": "secret-pw",
        "extra": {"fallback_url": "http://backup.example.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ECALL_DEFAULT", json.dumps(connection))
    with pytest.raises(EcallValidationError) as caught:
        EcallHook().get_client()
    assert caught.value.field == "connection 'ecall_default' extra fallback_url"


def test_an_alert_whose_recipient_renders_empty_is_lost_with_a_clear_error(
    ecall_sandbox_connection: EcallSandbox,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airflow_provider_ecall.client import EcallValidationError
    from tests.contexts import failure_context

    notifier = EcallSmsNotifier(address="{{ params.get('oncall', '') }}")
    call_lost(notifier, failure_context(DAG("nobody", schedule=None), 0), EcallValidationError)
    assert ecall_sandbox_connection.requests == []  # not retried, nothing sent
    line = error_lines(capsys, caplog)[0]
    assert "address: " in line
    assert "after 1 attempt(s)" in line
    assert "check the notifier's fields" in line


@pytest.mark.parametrize("address", [None, "", []])
def test_a_notifier_without_a_recipient_fails_at_parse(address: object) -> None:
    with pytest.raises(ValueError, match=r"^address: is required"):
        EcallSmsNotifier(address=address)  # type: ignore[arg-type]
