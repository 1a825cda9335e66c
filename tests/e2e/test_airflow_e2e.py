"""Real Airflow end to end: ``airflow dags test`` subprocesses against a sandbox in this process.

Three DAGs run once per module (about 7 s each): operators fed from XCom, failure alerts
from a shared notifier and a DAG callback, and a retry after a lost answer. The tests then
check what the sandbox received, what Airflow reported, and what the logs contain.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_provider_ecall.notifications.ecall import ERROR_NOT_GIVEN
from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage, SandboxRequest
from tests._airflow import (
    DAG_IMPORTS,
    DAGS_TEST_SECRET_ECHO,
    EXCEPTION_IN_DAG_TEST,
    TRACEBACK_LOCALS_ECHO,
)
from tests.conftest import AirflowHome, AirflowRun
from tests.e2e.conftest import sandbox_connection_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.compat(feature="End to end: airflow dags test, providers list"),
]

SMS_NUMBER = "+41791112233"
FAX_NUMBER = "+41447873071"
VOICE_NUMBER = "+41447873070"
ALERT_NUMBER = "+41791234567"
DAG_NUMBER = "+41799876543"
NUMBERS = (SMS_NUMBER, FAX_NUMBER, VOICE_NUMBER, ALERT_NUMBER, DAG_NUMBER)
PASSWORD = "e2e-sandbox-secret-7f3a9c"

HEADER = (
    """\
from __future__ import annotations

from datetime import timedelta

import pendulum
"""
    + DAG_IMPORTS
    + """

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier
from airflow_provider_ecall.operators.ecall import (
    EcallFaxOperator,
    EcallSmsOperator,
    EcallVoiceOperator,
)

START = pendulum.datetime(2024, 1, 1, tz="UTC")
"""
)

DAGS = {
    "e2e_ops": f"""
        with DAG("e2e_ops", schedule=None, start_date=START, catchup=False) as dag:
            @task
            def summary():
                return {{"rows": 42, "table": "orders"}}

            rows = "{{{{ ti.xcom_pull('summary')['rows'] }}}}"
            sms = EcallSmsOperator(
                task_id="sms", address="{SMS_NUMBER}", message=rows + " rows in orders"
            )
            fax = EcallFaxOperator(
                task_id="fax",
                address="{FAX_NUMBER}",
                message="report.j2",
                subject="Load of {{{{ ti.xcom_pull('summary')['table'] }}}}",
            )
            voice = EcallVoiceOperator(
                task_id="voice", address="{VOICE_NUMBER}", message=rows + " rows", language="EN"
            )
            summary() >> [sms, fax, voice]
    """,
    "e2e_callbacks": f"""
        alert = EcallSmsNotifier(
            address="{ALERT_NUMBER}",
            message="{{{{ ti.task_id }}}} failed on try {{{{ ti.try_number }}}}: "
            "{{{{ exception }}}}",
        )
        with DAG(
            "e2e_callbacks",
            schedule=None,
            start_date=START,
            catchup=False,
            default_args={{"on_failure_callback": alert}},
            on_failure_callback=EcallSmsNotifier(address="{DAG_NUMBER}"),
        ) as dag:
            @task
            def extract():
                raise ValueError("source unreachable")

            @task
            def load():
                raise RuntimeError("table locked")

            extract()
            load()
    """,
    "e2e_retry": f"""
        with DAG("e2e_retry", schedule=None, start_date=START, catchup=False) as dag:
            EcallSmsOperator(
                task_id="page",
                address="{SMS_NUMBER}",
                message="sent once",
                retries=1,
                retry_delay=timedelta(0),
            )
    """,
}
REPORT = "Rows loaded: {{ ti.xcom_pull('summary')['rows'] }}\nTable: orders\n"


@dataclass(frozen=True)
class Outcome:
    """One ``dags test`` run and what the sandbox saw during it."""

    run: AirflowRun
    messages: list[SandboxMessage]
    requests: list[SandboxRequest]


@pytest.fixture(scope="module")
def outcomes(
    e2e_dags_folder: Path, run_dags_test: Callable[..., AirflowRun]
) -> Iterator[dict[str, Outcome]]:
    """Run every DAG of :data:`DAGS` once against one sandbox."""
    for dag_id, body in DAGS.items():
        (e2e_dags_folder / f"{dag_id}.py").write_text(HEADER + textwrap.dedent(body))
    (e2e_dags_folder / "report.j2").write_text(REPORT)
    found: dict[str, Outcome] = {}
    with EcallSandbox(password=PASSWORD) as sandbox:
        env = sandbox_connection_env(sandbox)
        for dag_id in DAGS:
            sandbox.reset()
            if dag_id == "e2e_retry":
                # The first try's SMS is accepted, but its answer never arrives.
                sandbox.inject(endpoint="sms", accept=True, drop=True)
            run = run_dags_test(dag_id, dags_folder=e2e_dags_folder, env=env)
            found[dag_id] = Outcome(run, sandbox.messages, sandbox.requests)
        yield found


def test_operators_send_the_texts_rendered_from_upstream_xcom(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["e2e_ops"]
    assert outcome.run.dag_run_state == "success", outcome.run.output[-4000:]
    sent = {m.kind: m for m in outcome.messages}
    assert len(outcome.messages) == 3
    assert (sent["sms"].addresses, sent["sms"].message) == ((SMS_NUMBER,), "42 rows in orders")
    assert (sent["fax"].addresses, sent["fax"].message) == (
        (FAX_NUMBER,),
        "Rows loaded: 42\nTable: orders",
    )
    assert sent["fax"].params["Subject"] == "Load of orders"
    assert (sent["voice"].addresses, sent["voice"].message) == ((VOICE_NUMBER,), "42 rows")
    assert sent["voice"].params["Language"] == "EN"
    assert all(m.job_id and m.job_id.startswith("af-") for m in outcome.messages)


def test_a_shared_notifier_alerts_each_failing_task_and_the_dag_callback_alerts_too(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes["e2e_callbacks"]
    assert outcome.run.dag_run_state == "failed"
    alerts = sorted(m.message for m in outcome.messages if m.addresses == (ALERT_NUMBER,))
    # Airflow 3.0 to 3.2 give callbacks no exception under `airflow dags test` (their
    # in-process runner skips it; a worker run has it): the key still renders, truthfully.
    dropped = not EXCEPTION_IN_DAG_TEST
    assert alerts == [
        f"extract failed on try 1: {ERROR_NOT_GIVEN if dropped else 'source unreachable'}",
        f"load failed on try 1: {ERROR_NOT_GIVEN if dropped else 'table locked'}",
    ]
    (dag_alert,) = [m.message for m in outcome.messages if m.addresses == (DAG_NUMBER,)]
    # The DAG alert names the failed tasks (read from the database under `airflow dags test`).
    assert dag_alert.startswith(
        "Airflow: DAG e2e_callbacks: task_failure, 2 tasks failed: extract, load\n"
    )
    assert re.search(r"\nrun manual__\S+$", dag_alert)


def test_a_retry_after_a_lost_answer_sends_nothing_again(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["e2e_retry"]
    assert outcome.run.dag_run_state == "success", outcome.run.output[-4000:]
    (sent,) = outcome.messages
    assert sent.message == "sent once"
    # Try 1: the send (answer dropped). Try 2: a status query finds the job; no second send.
    assert [(r.endpoint, r.params.get("JobID")) for r in outcome.requests] == [
        ("sms", sent.job_id),
        ("state", sent.job_id),
    ]
    assert "had reached eCall already: nothing sent again" in outcome.run.output
    out = outcome.run.output
    assert re.search(r"try_number=2.*state=success|new_state=success", out) or re.search(
        r"UP_FOR_RETRY\. dag_id=e2e_retry, task_id=page.*SUCCESS\. dag_id=e2e_retry, task_id=page",
        out,
        re.S,
    )  # Airflow 3 logs the try's new state; Airflow 2 marks the task UP_FOR_RETRY, then SUCCESS


def test_logs_and_output_hold_no_password_and_no_full_number(
    outcomes: dict[str, Outcome], airflow_home: AirflowHome
) -> None:
    texts = {
        f"output of {dag_id}": "\n".join(
            line
            for line in o.run.output.splitlines()
            if not re.search(DAGS_TEST_SECRET_ECHO, line)  # Airflow 3.0's own debug echo
        )
        for dag_id, o in outcomes.items()
    }
    for path in airflow_home.log_files():
        texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    for where, text in texts.items():
        assert PASSWORD not in text, where
        if TRACEBACK_LOCALS_ECHO:
            text = "\n".join(t for t in text.splitlines() if TRACEBACK_LOCALS_ECHO not in t)
        for number in NUMBERS:
            assert number not in text, f"{number} in {where}"
            assert number[1:] not in text, f"{number[1:]} in {where}"
    # The sends are logged, masked.
    assert "to +41******233 (1 recipient(s)), " in outcomes["e2e_ops"].run.output
    assert "eCall Api/Fax accepted job" in outcomes["e2e_ops"].run.output


def test_providers_manager_lists_the_provider_and_its_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-ecall" in manager.providers
    hook = manager.hooks["ecall"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_ecall.hooks.ecall.EcallHook"
    assert hook.connection_id_attribute_name == "ecall_conn_id"
    assert hook.hook_name == "eCall"
    assert "extra__ecall__default_callback" in manager.connection_form_widgets
    behaviour = manager.field_behaviours["ecall"]
    assert behaviour["hidden_fields"] == ["schema", "port", "extra"]
    assert behaviour["relabeling"]["login"] == "UserName"


def test_airflow_providers_list_shows_the_provider(airflow_home: AirflowHome) -> None:
    listed = airflow_home.airflow("providers", "list")
    assert listed.returncode == 0, listed.output[-3000:]
    assert "airflow-provider-ecall" in listed.output
