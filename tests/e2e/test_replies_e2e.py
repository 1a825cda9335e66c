"""The acknowledge-by-SMS escalation in real Airflow (``airflow dags test``) against a sandbox
in this process: a reply in time stops the chain; no reply calls, then pages the second."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage
from tests.conftest import AirflowRun
from tests.e2e.conftest import sandbox_connection_env

pytestmark = pytest.mark.e2e

DAG_FOLDER = Path(__file__).resolve().parents[2] / "example_dags"
PRIMARY = "+41790000071"
SECOND = "+41790000072"
LEASED = "+41790000000"


def _run(
    run_dags_test: Callable[..., AirflowRun], sandbox: EcallSandbox, ack_timeout: str
) -> AirflowRun:
    env = {
        **sandbox_connection_env(sandbox),
        "ECALL_ONCALL_PRIMARY": PRIMARY,
        "ECALL_ONCALL_SECOND": SECOND,
        "ECALL_ACK_TIMEOUT": ack_timeout,
        "ECALL_REPLY_POLL": "1",
    }
    run = run_dags_test("ecall_ack_escalation", dags_folder=DAG_FOLDER, env=env)
    assert PRIMARY not in run.output
    assert SECOND not in run.output
    assert sandbox.password not in run.output
    return run


def test_a_reply_in_time_stops_the_escalation(run_dags_test: Callable[..., AirflowRun]) -> None:
    found: list[EcallSandbox] = []

    def reply_ack(message: SandboxMessage) -> None:
        if message.kind == "sms" and message.addresses == (PRIMARY,):
            found[0].add_inbound(address_from=PRIMARY, address_to=LEASED, message="Ack, on it")

    with EcallSandbox(echo=reply_ack) as sandbox:
        found.append(sandbox)
        run = _run(run_dags_test, sandbox, ack_timeout="120")

    assert run.dag_run_state == "success", run.output[-4000:]
    sent = [(m.kind, m.addresses) for m in sandbox.messages]
    assert sent == [("sms", (PRIMARY,))]  # no call, nobody else paged
    assert any(r.endpoint == "cache_get" and r.result_code == 0 for r in sandbox.requests)


def test_no_reply_calls_the_primary_then_pages_and_calls_the_second(
    run_dags_test: Callable[..., AirflowRun],
) -> None:
    with EcallSandbox() as sandbox:
        run = _run(run_dags_test, sandbox, ack_timeout="4")

    assert run.dag_run_state == "success", run.output[-4000:]
    sent = [(m.kind, m.addresses) for m in sandbox.messages]
    assert sent == [
        ("sms", (PRIMARY,)),
        ("voice", (PRIMARY,)),
        ("sms", (SECOND,)),
        ("voice", (SECOND,)),
    ]
    assert "no matching eCall reply within" in run.output
