"""The operators in real DAG runs (``dag.test()`` in this process) against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.operators.ecall import EcallSmsOperator
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.compat import DAG
from airflow_provider_ecall.utils.context import task_job_id
from tests.airflow.conftest import ti_states

NUMBER = "+41791112233"

pytestmark = pytest.mark.compat(feature="Operators: templates, XCom, retries ask Api/State")


def test_task_job_id_is_stable_per_task_instance_and_leaves_room_for_a_suffix() -> None:
    base = ("dag", "task", "manual__2024-01-01T00:00:00+00:00", -1)
    job = task_job_id(*base)
    assert job == task_job_id(*base)
    assert job.startswith("af-")
    assert len(job) == 35  # eCall allows 50: room for the client's "-N" batch suffix
    variants = {
        task_job_id("dag2", *base[1:]),
        task_job_id(base[0], "task2", *base[2:]),
        task_job_id(*base[:2], "manual__other", base[3]),
        task_job_id(*base[:3], 0),
        task_job_id(*base[:3], 1),
    }
    assert job not in variants
    assert len(variants) == 5
    assert task_job_id(*base[:3], None) == job


def test_only_message_may_name_a_template_file(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG("file_names", schedule=None, start_date=START) as dag:
            EcallFaxOperator(
                task_id="fax",
                address="{NUMBER}",
                message="page.j2",
                subject="export-{{{{ dag.dag_id }}}}.txt",
                header_info="see out.txt",
            )
        """,
        files={"page.j2": "Export of {{ dag.dag_id }} written to /data/out.txt"},
    )
    run = dag.test()
    assert run.state == "success", ti_states(run)
    [fax] = ecall_sandbox_connection.messages
    assert fax.message == "Export of file_names written to /data/out.txt"
    assert fax.params["Subject"] == "export-file_names.txt"
    assert fax.params["HeaderInfo"] == "see out.txt"


def test_fields_render_from_xcom_params_and_a_template_file(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "xcom.json"
    dag = load_dag(
        f"""
        with DAG("render_ops", schedule=None, start_date=START, params={{"who": "on-call"}}) as dag:
            @task
            def numbers():
                return {{"sms": "{NUMBER}", "voice": "+41791112244"}}

            @task
            def figures():
                return "42 rows"

            sms = EcallSmsOperator(
                task_id="sms",
                address="{{{{ ti.xcom_pull('numbers')['sms'] }}}}",
                message="body.j2",
                callback="{{{{ params.who[:2] | upper }}}}ops",
            )
            fax = EcallFaxOperator(
                task_id="fax",
                address="{{{{ ti.xcom_pull('numbers')['sms'] }}}}",
                message="Fax for {{{{ params.who }}}}: {{{{ ti.xcom_pull('figures') }}}}",
                subject="Report {{{{ dag.dag_id }}}}",
            )
            voice = EcallVoiceOperator(
                task_id="voice",
                address=["{{{{ ti.xcom_pull('numbers')['voice'] }}}}"],
                message="Hello {{{{ params.who }}}}",
                from_text="{{{{ task.task_id }}}} task",
            )

            @task
            def keep(result):
                open({str(out)!r}, "w").write(__import__("json").dumps(result))

            [numbers(), figures()] >> sms >> fax >> voice
            keep(sms.output)
        """,
        files={"body.j2": "Hi {{ params.who }}: {{ ti.xcom_pull('figures') }} in {{ dag.dag_id }}"},
    )
    run = dag.test()
    assert run.state == "success", ti_states(run)
    sms, fax, voice = ecall_sandbox_connection.messages
    assert (sms.kind, sms.addresses, sms.message) == (
        "sms",
        (NUMBER,),
        "Hi on-call: 42 rows in render_ops",
    )
    assert sms.params["CallBack"] == "ONops"
    assert (fax.message, fax.params["Subject"]) == ("Fax for on-call: 42 rows", "Report render_ops")
    assert (voice.addresses, voice.message) == (("+41791112244",), "Hello on-call")
    assert voice.params["FromText"] == "voice task"
    # The XCom value: the job id derived from the task, counts, result; no number, no password.
    pushed = json.loads(out.read_text())
    assert pushed["job_id"] == task_job_id("render_ops", "sms", run.run_id, -1) == sms.job_id
    assert pushed["recipient_count"] == 1
    assert pushed["skipped"] is False
    assert pushed["result_code"] == 0
    text = out.read_text()
    assert NUMBER not in text
    assert ecall_sandbox_connection.password not in text


def test_explicit_job_id_wins_and_mapped_tasks_get_one_job_id_each(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG("job_ids", schedule=None, start_date=START) as dag:
            EcallSmsOperator(
                task_id="named", address="{NUMBER}", message="x", job_id="job-{{{{ ti.task_id }}}}"
            )
            EcallSmsOperator.partial(task_id="mapped", message="y").expand(
                address=["{NUMBER}", "+41791112244"]
            )
        """
    )
    run = dag.test()
    assert run.state == "success", ti_states(run)
    jobs = {m.message: [] for m in ecall_sandbox_connection.messages}
    for message in ecall_sandbox_connection.messages:
        jobs[message.message].append(message.job_id)
    assert jobs["x"] == ["job-named"]
    assert len(set(jobs["y"])) == 2
    assert sorted(jobs["y"]) == sorted(
        task_job_id("job_ids", "mapped", run.run_id, index) for index in (0, 1)
    )


def test_naive_send_date_is_read_in_the_dag_timezone(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        ZURICH = pendulum.datetime(2024, 1, 1, tz="Europe/Zurich")
        with DAG("send_date_zone", schedule=None, start_date=ZURICH) as dag:
            EcallSmsOperator(
                task_id="later", address="{NUMBER}", message="x", send_date="2030-07-01 08:30"
            )
        """
    )
    assert dag.test().state == "success"
    (sent,) = ecall_sandbox_connection.messages
    assert sent.params["SendDate"] == "2030-07-01T08:30:00+02:00"


def test_operator_fails_on_a_long_text_unless_it_may_truncate(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG("sms_length", schedule=None, start_date=START) as dag:
            for name, truncate in (("strict", False), ("lenient", True)):
                EcallSmsOperator(
                    task_id=name,
                    address="{NUMBER}",
                    message="{{{{ 'ж' * 2000 }}}}",
                    truncate=truncate,
                    retries=1,
                    retry_delay=timedelta(0),
                )
        """
    )
    states = ti_states(dag.test())
    assert states["strict"] == ("failed", 1)  # AirflowFailException: no retry
    assert states["lenient"] == ("success", 1)
    (sent,) = ecall_sandbox_connection.messages
    assert len(sent.message) == 1570
    assert sent.message.endswith("...")  # the one ellipsis style


@pytest.mark.parametrize(
    ("inject", "expected_state", "expected_sms_requests"),
    [
        # Refusals fail at once: AirflowFailException skips the retry.
        ({"status": 400, "result_code": 11100}, ("failed", 1), 1),
        ({"status": 401, "result_code": 11300}, ("failed", 1), 1),
        ({"status": 403, "result_code": 11301}, ("failed", 1), 1),
        # A passing failure is re-raised: the retry runs and succeeds.
        ({"status": 500, "result_code": 11700}, ("success", 2), 2),
    ],
)
def test_refusals_fail_without_retry_and_server_errors_retry(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    inject: dict[str, int],
    expected_state: tuple[str, int],
    expected_sms_requests: int,
) -> None:
    dag = load_dag(
        f"""
        with DAG("errors", schedule=None, start_date=START) as dag:
            EcallSmsOperator(
                task_id="send", address="{NUMBER}", message="x",
                retries=1, retry_delay=timedelta(0),
            )
        """
    )
    ecall_sandbox_connection.inject(endpoint="sms", **inject)
    states = ti_states(dag.test())
    assert states["send"] == expected_state
    sends = [r for r in ecall_sandbox_connection.requests if r.endpoint == "sms"]
    assert len(sends) == expected_sms_requests


def test_invalid_rendered_field_fails_before_any_request(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        """
        with DAG("invalid", schedule=None, start_date=START) as dag:
            EcallSmsOperator(
                task_id="send", address="{{ '+4' ~ '1' }}", message="x",
                retries=1, retry_delay=timedelta(0),
            )
        """
    )
    assert ti_states(dag.test())["send"] == ("failed", 1)
    assert ecall_sandbox_connection.requests == []


def test_retry_after_a_lost_answer_does_not_send_again(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox
) -> None:
    dag = load_dag(
        f"""
        with DAG("lost_answer", schedule=None, start_date=START) as dag:
            EcallSmsOperator(
                task_id="send", address="{NUMBER}", message="once only",
                retries=1, retry_delay=timedelta(0),
            )
        """
    )
    ecall_sandbox_connection.inject(endpoint="sms", accept=True, drop=True)
    run = dag.test()
    assert ti_states(run)["send"] == ("success", 2)
    (sent,) = ecall_sandbox_connection.messages
    assert sent.job_id == task_job_id("lost_answer", "send", run.run_id, -1)
    assert [r.endpoint for r in ecall_sandbox_connection.requests] == ["sms", "state"]


def test_retries_check_first_but_a_cleared_task_sends_again(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    """Airflow's numbers for one task with ``retries=1``: try 1 and its retry 2 form a series
    (``max_tries`` 1); clearing sets ``max_tries = try_number + retries`` (3), so try 3
    starts a new series. A real clear needs the scheduler, so the task instance here is a
    stand-in with exactly those numbers; the send goes to the sandbox for real."""
    from types import SimpleNamespace

    op = EcallSmsOperator(task_id="report", address=NUMBER, message="done", retries=1)

    def run(try_number: int, max_tries: int) -> dict[str, object]:
        ti = SimpleNamespace(
            dag_id="etl", task_id="report", map_index=-1, try_number=try_number, max_tries=max_tries
        )
        return op.execute({"ti": ti, "run_id": "scheduled__2026-11-25"})  # type: ignore[arg-type]

    first = run(1, 1)
    retry = run(2, 1)  # the answer to try 1 was lost, say: eCall has the job
    cleared = run(3, 3)

    assert retry["skipped"] is True
    assert retry["job_id"] == first["job_id"]
    assert cleared["skipped"] is False
    assert cleared["job_id"] != first["job_id"]
    assert [m.job_id for m in ecall_sandbox_connection.messages] == [
        first["job_id"],
        cleared["job_id"],
    ]
