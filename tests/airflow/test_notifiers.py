"""The notifiers as task and DAG callbacks in real DAG runs (``dag.test()``), and directly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from airflow_provider_ecall.client import EcallAuthError
from airflow_provider_ecall.notifications.ecall import (
    EcallFaxNotifier,
    EcallSmsNotifier,
    EcallVoiceNotifier,
    send_ecall_fax_notification,
    send_ecall_sms_notification,
    send_ecall_voice_notification,
)
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG, AirflowVersionError, airflow_at_least
from tests._airflow import EXCEPTION_IN_DAG_TEST
from tests.airflow.conftest import ti_states

NUMBER = "+41791112233"
DAG_NUMBER = "+41791112299"

#: Deadline alerts await the notifier in the triggerer: Airflow 3.1 and later.
DEADLINES = pytest.mark.compat(feature="Deadline alerts: awaitable notifier", since="3.1")

pytestmark = pytest.mark.compat(feature="Notifiers: task and DAG callbacks, shared default_args")


def texts_to(sandbox: EcallSandbox, number: str) -> list[str]:
    return [m.message for m in sandbox.messages if number in m.addresses]


def test_aliases_are_the_notifier_classes() -> None:
    assert send_ecall_sms_notification is EcallSmsNotifier
    assert send_ecall_fax_notification is EcallFaxNotifier
    assert send_ecall_voice_notification is EcallVoiceNotifier


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="subject"):
        EcallSmsNotifier(address=NUMBER, subject="fax only")  # type: ignore[call-arg]


def test_one_notifier_in_default_args_alerts_each_task_with_its_own_text(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        shared = EcallSmsNotifier(address="{NUMBER}", message="{{{{ ti.task_id }}}} failed")
        with DAG(
            "shared_notifier",
            schedule=None,
            start_date=START,
            default_args={{"on_failure_callback": shared}},
            on_failure_callback=EcallSmsNotifier(
                address="{DAG_NUMBER}", message="DAG {{{{ dag.dag_id }}}} failed: {{{{ reason }}}}"
            ),
        ) as dag:
            @task
            def first():
                raise ValueError("one")

            @task
            def second():
                raise ValueError("two")

            first() >> second.override(trigger_rule="all_done")()
        """
    )
    run = dag.test()
    assert run.state == "failed"
    assert sorted(texts_to(ecall_sandbox_connection, NUMBER)) == ["first failed", "second failed"]
    assert texts_to(ecall_sandbox_connection, DAG_NUMBER) == [
        "DAG shared_notifier failed: task_failure"
    ]
    # The instance keeps its template for the next run.
    shared = dag.default_args["on_failure_callback"]
    assert shared.message == "{{ ti.task_id }} failed"


def test_default_messages_for_a_task_and_for_the_dag(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG(
            "default_texts",
            schedule=None,
            start_date=START,
            on_failure_callback=[EcallSmsNotifier(address="{DAG_NUMBER}")],
        ) as dag:
            @task(
                on_failure_callback=[
                    EcallSmsNotifier(address="{NUMBER}"),
                    EcallFaxNotifier(address="{NUMBER}"),
                    EcallVoiceNotifier(address="{NUMBER}"),
                ]
            )
            def broken():
                raise RuntimeError("disk \\x1b[31mfull\\x1b[0m " + "x" * 500)

            broken()
        """
    )
    run = dag.test()
    by_kind = {
        m.kind: m.message for m in ecall_sandbox_connection.messages if NUMBER in m.addresses
    }
    sms = by_kind["sms"]
    assert sms.startswith("Airflow: task default_texts.broken failed (try 1)\n")
    assert f"run {run.run_id}" in sms
    if EXCEPTION_IN_DAG_TEST:
        assert "RuntimeError: disk  [31mfull" in sms  # control characters made harmless
        assert "x" * 500 in by_kind["fax"]  # the fax carries the error at length
    else:
        assert "RuntimeError" not in sms
    assert "\x1b" not in sms
    # the log URL: Airflow 3's UI route, or Airflow 2's grid view; 3.0's task instance has none
    if airflow_at_least("3.1") or not airflow_at_least("3.0"):
        assert "/dags/default_texts/runs/" in sms or "/dags/default_texts/grid?" in sms
    else:
        assert "http" not in sms
    assert len(sms) < 400  # short: the error is cut
    assert "Task: broken" in by_kind["fax"]
    assert by_kind["voice"].startswith("Airflow alert. task default_texts broken failed (try 1).")
    assert "http" not in by_kind["voice"]
    (dag_text,) = texts_to(ecall_sandbox_connection, DAG_NUMBER)
    assert dag_text.startswith("Airflow: DAG default_texts: task_failure, 1 task failed: broken\n")
    assert f"run {run.run_id}" in dag_text
    assert "try" not in dag_text


def test_dag_level_default_message_without_a_task_instance(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    # The context the DAG processor builds when the run had no relevant task instance.
    dag = DAG("no_ti", schedule=None)
    EcallSmsNotifier(address=NUMBER)({"dag": dag, "run_id": "manual__1", "reason": "success"})
    (sent,) = ecall_sandbox_connection.messages
    assert sent.message == "Airflow: DAG no_ti: success\nrun manual__1"


def test_alert_text_is_truncated_not_refused(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    # The exception's text, or (where dag.test() gives callbacks no exception) the same text
    text = '"{{ exception }}"' if EXCEPTION_IN_DAG_TEST else '"ж" * 3000'
    dag = load_dag(
        f"""
        with DAG("long_alert", schedule=None, start_date=START) as dag:
            @task(on_failure_callback=EcallSmsNotifier(address="{NUMBER}", message={text}))
            def broken():
                raise ValueError("ж" * 3000)

            broken()
        """
    )
    dag.test()
    (sent,) = ecall_sandbox_connection.messages
    assert len(sent.message) == 1570
    assert sent.message.startswith("жжж")
    assert sent.message.endswith("...")  # the one ellipsis style


def test_voice_and_fax_alerts_are_cut_to_their_guards_and_cleaned(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    # The exception's text, or (where dag.test() gives callbacks no exception) the same text
    huge = '"lone \\ud800 surrogate " + "x" * 60_000'
    text = '"{{ exception }}"' if EXCEPTION_IN_DAG_TEST else huge
    error = huge if EXCEPTION_IN_DAG_TEST else '"short"'  # 3.0 logs a huge one slowly
    dag = load_dag(
        f"""
        with DAG("huge_alert", schedule=None, start_date=START) as dag:
            @task(on_failure_callback=[
                EcallVoiceNotifier(address="{NUMBER}", message={text}),
                EcallFaxNotifier(address="{NUMBER}", message={text}),
            ])
            def broken():
                raise ValueError({error})

            broken()
        """
    )
    dag.test()
    voice = ecall_sandbox_connection.messages_of("voice")
    fax = ecall_sandbox_connection.messages_of("fax")
    assert [len(m.message) for m in voice + fax] == [5_000, 50_000]
    for sent in voice + fax:
        assert sent.message.startswith("lone   surrogate xxx")
        assert sent.message.endswith("...")  # the one ellipsis style


def test_a_message_template_that_does_not_fit_the_context_falls_back(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    dag = DAG("misfit", schedule=None)
    notifier = EcallSmsNotifier(address=NUMBER, message="{{ ti.task_id }} failed")
    notifier({"dag": dag, "run_id": "manual__2", "reason": "task_failure"})
    (sent,) = ecall_sandbox_connection.messages
    assert sent.message == "Airflow: DAG misfit: task_failure\nrun manual__2"


def test_success_and_retry_callbacks(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG("retry_and_success", schedule=None, start_date=START) as dag:
            @task(
                retries=1,
                retry_delay=timedelta(0),
                on_retry_callback=EcallSmsNotifier(
                    address="{NUMBER}", message="retrying after try {{{{ ti.try_number }}}}"
                ),
                on_success_callback=EcallVoiceNotifier(
                    address="{NUMBER}", message="{{{{ ti.task_id }}}} done", language="EN"
                ),
            )
            def flaky(ti=None):
                if ti.try_number == 1:
                    raise ValueError("first try")

            flaky()
        """
    )
    assert dag.test().state == "success"
    assert [(m.kind, m.message) for m in ecall_sandbox_connection.messages] == [
        ("sms", "retrying after try 1"),
        ("voice", "flaky done"),
    ]


def test_refused_alert_is_raised_after_logging_and_the_task_state_stands(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dag = load_dag(
        f"""
        with DAG("refused_alert", schedule=None, start_date=START) as dag:
            @task(on_success_callback=EcallSmsNotifier(address="{NUMBER}", message="ok"))
            def fine():
                return 1

            fine()
        """
    )
    ecall_sandbox_connection.inject(endpoint="sms", status=401, result_code=11300)
    run = dag.test()
    assert ti_states(run)["fine"] == ("success", 1)
    assert ecall_sandbox_connection.messages == []
    ecall_sandbox_connection.inject(endpoint="sms", status=401, result_code=11300)
    notifier = EcallSmsNotifier(address=NUMBER, message="x")
    if not airflow_at_least("3.1"):  # 2.11's and 3.0's BaseNotifier log the error themselves
        notifier({"dag": dag, "run_id": "r", "reason": "x"})
        assert "Failed to send notification" in caplog.text
        assert "EcallAuthError" in caplog.text
        return
    with pytest.raises(EcallAuthError):
        notifier({"dag": dag, "run_id": "r", "reason": "x"})


@DEADLINES
def test_async_notify_and_await_send(ecall_sandbox_connection: EcallSandbox) -> None:
    dag = DAG("async_alerts", schedule=None)
    context = {"dag": dag, "run_id": "manual__3", "reason": "success"}
    if not airflow_at_least("3.1"):
        with pytest.raises(AirflowVersionError, match=r"awaitable notifier .* needs Airflow 3\.1"):
            asyncio.run(EcallSmsNotifier(address=NUMBER, message="x").async_notify(context))
        assert ecall_sandbox_connection.requests == []
        return
    asyncio.run(EcallSmsNotifier(address=NUMBER, message="direct").async_notify(context))

    notifier = EcallVoiceNotifier(address=NUMBER, message="{{ dag.dag_id }} awaited")
    notifier.context = context

    async def wait() -> None:
        await notifier

    asyncio.run(wait())
    assert [m.message for m in ecall_sandbox_connection.messages] == [
        "direct",
        "async_alerts awaited",
    ]
    assert notifier.message == "{{ dag.dag_id }} awaited"


@DEADLINES
def test_deadline_alert_through_airflows_callback_trigger(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    kwargs = {
        "address": NUMBER,
        "context": {
            "dag_run": {"dag_id": "nightly_load", "run_id": "scheduled__2026-11-25"},
            "deadline": {"id": "d-1"},
        },
    }
    if not airflow_at_least("3.1"):  # refused where a deadline alert creates it
        with pytest.raises(AirflowVersionError, match=r"deadline alerts\) needs Airflow 3\.1"):
            EcallSmsNotifier(**kwargs)  # type: ignore[arg-type]
        assert ecall_sandbox_connection.requests == []
        return
    try:
        from airflow.triggers.callback import PAYLOAD_STATUS_KEY, CallbackTrigger
    except ImportError:  # Airflow 3.1
        from airflow.triggers.deadline import PAYLOAD_STATUS_KEY
        from airflow.triggers.deadline import DeadlineCallbackTrigger as CallbackTrigger

    trigger = CallbackTrigger(
        callback_path="airflow_provider_ecall.notifications.ecall.EcallSmsNotifier",
        callback_kwargs=kwargs,
    )

    async def run() -> list[dict[str, object]]:
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(run())
    assert events[-1][PAYLOAD_STATUS_KEY] == "success", events
    [sms] = ecall_sandbox_connection.messages
    assert "nightly_load" in sms.message
    assert "missed its deadline" in sms.message
    assert "scheduled__2026-11-25" in sms.message
