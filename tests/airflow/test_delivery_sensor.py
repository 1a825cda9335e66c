"""EcallDeliverySensor in real DAG runs (``dag.test()`` runs the trigger in-process after a
real deferral) against the sandbox's progressing statuses; job id forms; parse-time checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.client.delivery import DeliveryReport
from airflow_provider_ecall.client.responses import StatusRecord
from airflow_provider_ecall.delivery import wait
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sensors.ecall import EcallDeliverySensor
from airflow_provider_ecall.utils.compat import (
    AIRFLOW_VERSION,
    DAG,
    AirflowFailException,
    AirflowSensorTimeout,
)
from tests.airflow.conftest import ti_states

pytestmark = pytest.mark.compat(feature="Delivery: EcallDeliverySensor poke and deferred")

PHONE, OTHER = "+41791112233", "+41791112244"


@pytest.fixture(autouse=True)
def _sequential_executor_on_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 2.11 asks the default executor about a sensor's reschedule mode; the unit test
    configuration names LocalExecutor, which refuses the tests' SQLite database."""
    if AIRFLOW_VERSION < (3, 0, 0):
        monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "SequentialExecutor")


def _dag(name: str, out: Path, sensor_args: str, address: str = PHONE) -> str:
    return f"""
        from airflow_provider_ecall.sensors.ecall import EcallDeliverySensor

        with DAG("{name}", schedule=None, start_date=START) as dag:
            send = EcallSmsOperator(task_id="send", address="{address}", message="Report ready")
            check = EcallDeliverySensor(task_id="check", job_id=send.output, {sensor_args})

            @task
            def keep(outcome):
                import json, pathlib
                pathlib.Path({str(out)!r}).write_text(json.dumps(outcome))

            keep(check.output)
        """


@pytest.mark.ecall_delivery(delay=0.3)
@pytest.mark.parametrize(
    "mode", ["deferrable=True", "deferrable=False, mode='poke'"], ids=["deferred", "poke"]
)
def test_waits_until_delivered_and_returns_masked_outcomes(
    load_dag: Callable[..., DAG],
    ecall_sandbox_connection: EcallSandbox,
    tmp_path: Path,
    mode: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "outcome.json"
    dag = load_dag(_dag("sensor_ok", out, f"poke_interval=0.1, {mode}", f"{PHONE};{OTHER}"))

    run = dag.test()

    assert run.state == "success", ti_states(run)
    # A real deferral: the task paused as DEFERRED and dag.test() ran the trigger.
    if AIRFLOW_VERSION >= (3, 0, 0):  # 2.11 logs it, not on stdout
        deferred = "Pausing task as DEFERRED" in capfd.readouterr().out
        assert deferred == mode.startswith("deferrable=True")
    outcome = json.loads(out.read_text())
    assert outcome["status"] == "delivered"
    assert [(r["recipient"], r["status_code"]) for r in outcome["recipients"]] == [
        ("+41******233", 8),
        ("+41******244", 8),
    ]
    assert PHONE not in out.read_text()


@pytest.mark.ecall_delivery(delay=0.2, failing=[OTHER])
def test_a_failed_recipient_fails_the_sensor_without_retries(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, tmp_path: Path
) -> None:
    args = "poke_interval=0.1, deferrable=True, retries=2"
    dag = load_dag(_dag("sensor_failed", tmp_path / "x.json", args, f"{PHONE};{OTHER}"))

    run = dag.test()

    states = ti_states(run)
    assert states["check"] == ("failed", 1), states  # AirflowFailException: no retry
    assert states["keep"][0] == "upstream_failed"


@pytest.mark.ecall_delivery(delay=0.2, failing=[OTHER])
def test_require_final_accepts_a_failure_and_reports_it(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, tmp_path: Path
) -> None:
    out = tmp_path / "final.json"
    args = "poke_interval=0.1, deferrable=True, require='final'"
    dag = load_dag(_dag("sensor_final", out, args, OTHER))

    run = dag.test()

    assert run.state == "success", ti_states(run)
    outcome = json.loads(out.read_text())
    assert outcome["status"] == "final"
    assert [r["outcome"] for r in outcome["recipients"]] == ["failed"]


@pytest.mark.ecall_delivery(delay=0, never=[PHONE])
def test_a_deferred_wait_times_out_with_what_it_saw(
    load_dag: Callable[..., DAG], ecall_sandbox_connection: EcallSandbox, tmp_path: Path
) -> None:
    dag = load_dag(
        _dag("sensor_timeout", tmp_path / "t.json", "poke_interval=0.1, timeout=1, deferrable=True")
    )

    run = dag.test()

    assert ti_states(run)["check"][0] == "failed"


def test_default_deferrable_comes_from_the_operators_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert EcallDeliverySensor(task_id="a", job_id="j").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert EcallDeliverySensor(task_id="b", job_id="j").deferrable is False
    assert EcallDeliverySensor(task_id="c", job_id="j", deferrable=True).deferrable is True


def test_an_unknown_requirement_fails_at_parse() -> None:
    with pytest.raises(ValueError, match="require must be 'delivered' or 'final'"):
        EcallDeliverySensor(task_id="x", job_id="j", require="read")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("af-1", ["af-1"]),
        (" af-1, af-2;af-3 ", ["af-1", "af-2", "af-3"]),
        (["af-1", "af-1", "af-2"], ["af-1", "af-2"]),
        ({"job_id": "af-1", "job_ids": ["af-1-1", "af-1-2"]}, ["af-1-1", "af-1-2"]),
        ([{"job_ids": ["m-0"]}, {"job_ids": ["m-1"]}], ["m-0", "m-1"]),
        ("['a', 'b']", ["a", "b"]),
        ('{"job_ids": ["x"]}', ["x"]),
    ],
)
def test_job_ids_come_in_every_form_a_template_or_xcom_gives(
    given: object, expected: list[str]
) -> None:
    assert wait.job_ids_from(given) == expected


@pytest.mark.parametrize("given", ["", " ; ", [], {"job_ids": []}, None])
def test_no_job_id_is_a_clear_failure(given: object) -> None:
    with pytest.raises(AirflowFailException, match="job_id: no eCall JobID"):
        wait.job_ids_from(given)


def test_errors_list_failed_recipients_masked_with_status_texts() -> None:
    records = {
        "j": (
            StatusRecord("j", PHONE, 8, "Delivered", None, None),
            StatusRecord("j", OTHER, 2, "Error: absent subscriber", None, None),
        )
    }
    report = DeliveryReport.build(["j", "k"], records)

    with pytest.raises(AirflowFailException) as failed:
        wait.finish("failed", report)
    with pytest.raises(AirflowSensorTimeout) as late:
        wait.finish("timeout", report)

    assert str(failed.value) == (
        "eCall delivery failed for 1 recipient(s): job j to +41******244: failed "
        "(2 Error: absent subscriber); job k: no status from eCall"
    )
    assert "+41******244" in str(late.value)
    assert "job k: no status from eCall" in str(late.value)
    assert PHONE not in str(failed.value) + str(late.value)
