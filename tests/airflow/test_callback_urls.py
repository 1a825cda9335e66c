"""The callback URLs the provider builds (``answer="ecall:callback"``): signed for the send's
JobID, called back by eCall (the sandbox) into a running receiver; and no callback secret —
signed token or account-wide token — in what ``airflow dags test`` prints, the task logs,
the rendered fields or XCom."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app
from airflow_provider_ecall.plugins.signing import CallbackSigner
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV, connection_json
from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.airflow.conftest import CALLBACK_TOKEN as TOKEN
from tests.airflow.conftest import SIGNING_KEY, forget_callbacks
from tests.airflow.test_alert_privacy import rendered_fields
from tests.airflow.test_callback_receiver import REPORTS, _events
from tests.airflow.test_callback_receiver import assets as assets  # the fixture

if TYPE_CHECKING:
    from tests.conftest import AirflowHome

PHONE = "+41791110041"


def _settings(base_url: str) -> dict[str, str]:
    return {
        "AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS": SIGNING_KEY,
        "AIRFLOW__ECALL__CALLBACK_TOKENS": TOKEN,
        "AIRFLOW__ECALL__CALLBACK_BASE_URL": base_url,
    }


def _token(url: str) -> str:
    return url.rstrip("/").split("/")[-2]


@pytest.fixture
def running_receiver() -> Iterator[str]:
    """The receiver under uvicorn on an ephemeral loopback port; its base URL."""
    import uvicorn
    from fastapi import FastAPI

    forget_callbacks()
    app = FastAPI()
    app.mount("/ecall", build_app(ReceiverSettings((TOKEN,), (SIGNING_KEY,))))  # as Airflow does
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.mark.skipif(not airflow_at_least("3.0"), reason="the callback receiver needs 3.0")
@pytest.mark.usefixtures("assets")
def test_ecall_calls_back_on_the_signed_url_of_the_send_and_no_other_job_may_use_it(
    ecall_sandbox_connection: EcallSandbox,
    running_receiver: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in _settings(running_receiver).items():
        monkeypatch.setenv(name, value)
    hook = EcallHook()
    hook.send_sms(
        address=PHONE, message="ok?", job_id="j-signed-1", notification_address="ecall:callback"
    )
    [sent] = ecall_sandbox_connection.messages
    url = sent.params["NotificationAddress"]
    assert "/callbacks/s1." in url
    assert url.endswith("/delivery")
    signed = CallbackSigner((SIGNING_KEY,)).verify(_token(url), "delivery", now=time.time())
    assert signed.job_id == "j-signed-1"
    assert ecall_sandbox_connection.notify_delivery("j-signed-1") == [200]
    [extra] = _events(REPORTS)
    assert extra["payload"]["job_id"] == "j-signed-1"


def test_the_placeholder_needs_a_job_id_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = EcallHook()
    with pytest.raises(EcallValidationError, match="job_id: is required where a URL is"):
        hook.send_sms(address=PHONE, message="x", answer="ecall:callback")
    monkeypatch.delenv("AIRFLOW__ECALL__CALLBACK_SIGNING_KEYS", raising=False)
    with pytest.raises(EcallValidationError, match="needs \\[ecall\\] callback_base_url"):
        hook.send_sms(address=PHONE, message="x", job_id="j", answer="ecall:callback")


def _xcom_values() -> str:
    """Every stored XCom value, of every DAG: the table is ``xcom`` up to 3.3, and from 3.4
    (seen in 3.4.0b2) ``xcom_v2``, with earlier values kept in ``xcom_v1``."""
    from airflow.utils.session import create_session
    from sqlalchemy import MetaData, Table, inspect, select

    with create_session() as session:
        bind = session.get_bind()
        names = [name for name in inspect(bind).get_table_names() if name.startswith("xcom")]
        assert names, "no XCom table found"
        tables = [Table(name, MetaData(), autoload_with=bind) for name in names]
        values = [value for table in tables for value in session.scalars(select(table.c.value))]
    return repr(values)


@pytest.mark.e2e
@pytest.mark.compat(feature="Callback URLs: signed per job, never in logs, rendered fields or XCom")
def test_no_callback_secret_reaches_output_logs_rendered_fields_or_xcom(
    airflow_home: AirflowHome, tmp_path: Path
) -> None:
    dag_id = f"callback_urls_{uuid.uuid4().hex[:8]}"
    hand_made = f"https://hooks.example.org/ecall/callbacks/{TOKEN}/delivery"
    (tmp_path / "dag.py").write_text(
        f"""
import pendulum
from airflow_provider_ecall.operators.ecall import EcallSmsOperator
from airflow_provider_ecall.utils.compat import DAG

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
    EcallSmsOperator(
        task_id="ask",
        address="{PHONE}",
        message="ok?",
        answer="ecall:callback",
        notification_address=["ecall:callback", "{hand_made}"],
    )
""",
        encoding="utf-8",
    )
    with EcallSandbox() as sandbox:
        env = {CONNECTION_ENV: connection_json(sandbox), **_settings("https://af.example.org")}
        run = airflow_home.dags_test(dag_id, dags_folder=tmp_path, env=env)
        assert run.dag_run_state == "success", run.output[-3000:]
        [sent] = sandbox.messages
    answer, (delivery, hand) = sent.params["Answer"], sent.params["NotificationAddress"].split(";")
    assert answer.startswith("https://af.example.org/ecall/callbacks/s1.")
    assert delivery.startswith("https://af.example.org/ecall/callbacks/s1.")
    assert hand == hand_made
    signer = CallbackSigner((SIGNING_KEY,))
    assert signer.verify(_token(answer), "reply", now=time.time()).job_id == sent.params["JobID"]
    secrets = (TOKEN, _token(answer), _token(delivery))
    logs = "".join(p.read_text(errors="replace") for p in airflow_home.log_files())
    stored: dict[str, Any] = rendered_fields(dag_id)["ask"]
    assert stored["answer"] == "ecall:callback"  # the placeholder, never the URL
    output = run.output
    if not airflow_at_least("3.1"):
        # Airflow 3.0's `dags test` prints its in-process comms at DEBUG whatever the log
        # level ("Sending request msg=MaskSecret(value=…)", rendered fields before masking,
        # the connection's password too); a deployment's task runner does not
        # (docs/security.md).
        records = re.split(r"\n(?=\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)", output)
        comms = ("Sending request", "Received message from task runner")
        output = "\n".join(r for r in records if not any(c in r for c in comms))
    xcoms = _xcom_values()
    assert sent.params["JobID"] in xcoms  # the task's result: the XCom tables were read
    for secret in secrets:
        assert secret not in output
        assert secret not in logs
        assert secret not in repr(stored)
        assert secret not in xcoms
