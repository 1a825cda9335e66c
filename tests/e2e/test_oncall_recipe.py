"""The on-call recipe (``example_dags/ecall_oncall_recipe.py``) in real Airflow
(``airflow dags test``) against a sandbox in this process, inside its quiet hours: the
minor failure is one SMS held for the window's end, the critical one pages at once (urgent,
same storm key), nobody answers, the engineer is called and answers ACK — nobody else is
paged. Every message carries the reply-capable sender."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pendulum
import pytest

from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage
from tests.conftest import AirflowRun
from tests.e2e.conftest import sandbox_connection_env

pytestmark = pytest.mark.e2e

DAG_FOLDER = Path(__file__).resolve().parents[2] / "example_dags"
PRIMARY = "+41790000081"
SECOND = "+41790000082"
REPLY_NUMBER = "+41790000098"
OTHER_NUMBER = "+41790000000"


@pytest.mark.timeout(600)  # nine tasks, two reply waits: minutes on a busy machine
def test_the_recipe_holds_the_minor_alert_pages_the_urgent_one_and_stops_at_the_ack(
    run_dags_test: Callable[..., AirflowRun],
) -> None:
    found: list[EcallSandbox] = []

    def phone(message: SandboxMessage) -> None:
        """The engineer answers the call, not the SMS; a stranger texts another number."""
        if message.kind == "voice" and message.addresses == (PRIMARY,):
            found[0].add_inbound(address_from=PRIMARY, address_to=REPLY_NUMBER, message="ACK")

    now = pendulum.now("Europe/Zurich")
    end = now.add(hours=1).replace(second=0, microsecond=0)
    with EcallSandbox(echo=phone) as sandbox:
        found.append(sandbox)
        # An unrelated SMS at the head of the cache, to another of the account's numbers.
        sandbox.add_inbound(address_from="+41795550123", address_to=OTHER_NUMBER, message="hi")
        env = {
            **sandbox_connection_env(sandbox),
            "ECALL_ONCALL_PRIMARY": PRIMARY,
            "ECALL_ONCALL_SECOND": SECOND,
            "ECALL_REPLY_NUMBER": REPLY_NUMBER,
            "ECALL_QUIET_HOURS": f"{now.subtract(hours=1):%H:%M}-{end:%H:%M}",
            "ECALL_ACK_TIMEOUT": "4",
            "ECALL_REPLY_POLL": "1",
        }
        run = run_dags_test("ecall_oncall_recipe", dags_folder=DAG_FOLDER, env=env)

    # The chain's last task (call_second) is skipped after the ACK: Airflow judges the run by
    # its leaves, so it ends "success" although settle_payments failed.
    assert run.dag_run_state == "success", run.output[-4000:]
    sent = [
        (m.kind, m.addresses, m.message.split(" ")[0], m.params.get("SendDate"))
        for m in sandbox.messages
    ]
    assert sent == [
        ("sms", (PRIMARY,), "Airflow:", end.isoformat()),  # refresh_dashboard: held
        ("sms", (PRIMARY,), "URGENT", None),  # settle_payments: at once
        ("voice", (PRIMARY,), "Airflow", None),  # no ACK in time: the call
    ]
    assert all(
        m.params.get("CallBack") == REPLY_NUMBER for m in sandbox.messages if m.kind == "sms"
    )
    assert "matched" in run.output
    assert PRIMARY not in run.output
    assert sandbox.password not in run.output
