"""The example DAGs and the README's quick start: they parse cleanly on this Airflow (those
that need Airflow 3 are refused on 2.11, naming 3.0), and they run against the sandbox.

In the compat matrix the parse tests run on every release; the runs (``airflow dags test``,
several seconds each) run on 2.11 there and on 3.3 in ``make test``, the two ends of the range:
the examples use no Airflow name that differs between 3.0 and 3.3.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.e2e.conftest import sandbox_connection_env

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_ecall.sandbox import EcallSandbox
    from tests.conftest import AirflowRun

    RunDagsTest = Callable[..., AirflowRun]

ROOT = Path(__file__).resolve().parents[2]
DAG_FOLDER = ROOT / "example_dags"
PARSER = Path(__file__).with_name("_parse_example_dags.py")
EXAMPLE_DAG_IDS = {
    "ecall_pipeline_report",
    "ecall_oncall_alerting",
    "ecall_fax_report",
    "ecall_mapped_recipients",
    "ecall_ack_escalation",
    "ecall_sms_commands",
    "ecall_delivery_fallback",
    "ecall_oncall_recipe",
    "ecall_sms_approval",
}
#: The examples built on Airflow 3 features (asset watchers, reply waits): refused on 2.11.
NEEDS_AIRFLOW_3 = {"ecall_ack_escalation", "ecall_oncall_recipe", "ecall_sms_commands"}
#: The examples built on human-in-the-loop tasks: refused before 3.1.
NEEDS_AIRFLOW_3_1 = {"ecall_sms_approval"}
#: The examples this Airflow can parse and run.
RUNNABLE_DAG_IDS = (
    EXAMPLE_DAG_IDS
    - (set() if airflow_at_least("3.0") else NEEDS_AIRFLOW_3)
    - (set() if airflow_at_least("3.1") else NEEDS_AIRFLOW_3_1)
)

pytestmark = pytest.mark.compat(feature="Example DAGs and the README quick start")

#: The runs, in the matrix only on its 2.11 row (see the module docstring).
runs_here = pytest.mark.skipif(
    bool(os.environ.get("ECALL_COMPAT_WHEEL")) and airflow_at_least("3.0"),
    reason="the matrix runs the examples on 2.11; make test runs them on 3.3",
)


def _is_deprecation(text: str) -> bool:
    """Whether a warning category (or a formatted warning line) is about a deprecation."""
    return any(word in text for word in ("Deprecat", "RemovedIn", "FutureWarning"))


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example folder as a fresh interpreter's ``DagBag`` sees it."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # Airflow 2.11 warns that its own default timer unit will change in 3.0.
        "AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY": "True",
        # The first file to import Airflow's standard provider may take over the default 30 s
        # on a busy machine (seen on 3.0.6 with two matrix rows running).
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
    }
    done = subprocess.run(
        [sys.executable, str(PARSER), str(DAG_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_example_dag_parses_or_names_the_airflow_it_needs(parsed: dict[str, Any]) -> None:
    errors = {Path(path).stem: error for path, error in parsed["import_errors"].items()}
    assert set(parsed["dags"]) == RUNNABLE_DAG_IDS
    assert set(errors) == EXAMPLE_DAG_IDS - RUNNABLE_DAG_IDS, errors
    for dag_id, error in errors.items():
        needs = "3.1" if dag_id in NEEDS_AIRFLOW_3_1 else "3.0"
        assert f"needs Airflow {needs} or newer" in error.strip().splitlines()[-1], (dag_id, error)


def test_parsing_the_examples_emits_no_deprecation_warning(parsed: dict[str, Any]) -> None:
    deprecations = [w for w in parsed["warnings"] if _is_deprecation(w["category"])]
    assert deprecations == []
    assert [line for line in parsed["file_warnings"] if _is_deprecation(line)] == []


@pytest.mark.parametrize("dag_id", sorted(RUNNABLE_DAG_IDS))
def test_example_dag_is_documented_tagged_and_lives_in_its_own_file(
    parsed: dict[str, Any], dag_id: str
) -> None:
    dag = parsed["dags"][dag_id]
    assert Path(dag["fileloc"]).name == f"{dag_id}.py"
    assert {"ecall", "example"} <= set(dag["tags"])
    assert dag["doc_md"].lstrip().startswith("###")
    assert dag["catchup"] is False


# -- the examples in real Airflow (``airflow dags test``) against the sandbox ----------------


def _dags_test(
    run_dags_test: RunDagsTest,
    sandbox: EcallSandbox,
    dag_id: str,
    *,
    sends: bool = True,
    **env: str,
) -> AirflowRun:
    """Run one example DAG with the ``ecall_default`` connection pointing at ``sandbox``;
    check that no recipient's full number and not the password reached the output."""
    run = run_dags_test(
        dag_id, dags_folder=DAG_FOLDER, env={**sandbox_connection_env(sandbox), **env}
    )
    numbers = {address for message in sandbox.messages for address in message.addresses}
    assert bool(numbers) is sends, f"{dag_id}: expected sends={sends}, got {len(numbers)}"
    leaked = sorted(number for number in numbers if number in run.output)
    assert not leaked, f"full numbers in the output of {dag_id}: {len(leaked)}"
    assert sandbox.password not in run.output
    return run


@pytest.mark.e2e
@runs_here
def test_pipeline_report_texts_the_figures_its_upstream_tasks_computed(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(
        run_dags_test,
        ecall_sandbox,
        "ecall_pipeline_report",
        ECALL_REPORT_RECIPIENTS="+41790000099",
    )

    assert run.returncode == 0, run.output[-4000:]
    assert run.dag_run_state == "success"
    [sms] = ecall_sandbox.messages
    assert sms.kind == "sms"
    assert sms.addresses == ("+41790000099",)
    # The .j2 template file was rendered with both upstream tasks' XCom values.
    assert "4812 rows loaded in " in sms.message
    assert "total CHF 15864706.86" in sms.message
    assert "Rejected: 12 (99.8% passed)" in sms.message
    assert "Run manual__" in sms.message
    assert "{{" not in sms.message
    assert "{%" not in sms.message
    # The operator's deterministic JobID, not a random one.
    assert sms.job_id is not None
    assert sms.job_id.startswith("af-")
    # The password never reaches the task output.
    assert ecall_sandbox.password not in run.output


@pytest.mark.e2e
@runs_here
def test_oncall_alerting_fails_and_alerts_by_sms_voice_and_dag_callback(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(
        run_dags_test,
        ecall_sandbox,
        "ecall_oncall_alerting",
        ECALL_ONCALL_SMS="+41790000091",
        ECALL_ONCALL_VOICE="+41790000092",
        ECALL_TEAM_LEAD="+41790000093",
    )

    assert run.returncode != 0  # the run fails on purpose
    assert run.dag_run_state == "failed", run.output[-4000:]
    by_number = {
        number: sorted(m.message for m in ecall_sandbox.messages if m.addresses == (number,))
        for number in ("+41790000091", "+41790000092", "+41790000093")
    }
    oncall = by_number["+41790000091"]
    assert len(oncall) == 3, oncall
    # One notifier instance in default_args rendered separately for each task.
    assert any("task load_customers failed" in text and "crm-db" in text for text in oncall)
    assert any("task load_inventory failed" in text for text in oncall)
    assert any(text.startswith("CRITICAL") and "settle_payments" in text for text in oncall)
    [voice] = ecall_sandbox.messages_of("voice")
    assert voice.addresses == ("+41790000092",)
    assert voice.params["Language"] == "EN"
    assert voice.params["FromText"] == "Airflow"
    [dag_level] = by_number["+41790000093"]
    assert "ecall_oncall_alerting" in dag_level


@pytest.mark.e2e
@runs_here
def test_oncall_alerting_is_green_and_silent_when_failure_simulation_is_off(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(
        run_dags_test,
        ecall_sandbox,
        "ecall_oncall_alerting",
        sends=False,
        AIRFLOW_VAR_ECALL_SIMULATE_FAILURE="no",
    )

    assert run.returncode == 0, run.output[-4000:]
    assert run.dag_run_state == "success"
    assert ecall_sandbox.messages == []


@pytest.mark.e2e
@runs_here
def test_fax_report_is_scheduled_for_seven_next_morning(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(run_dags_test, ecall_sandbox, "ecall_fax_report")

    assert run.returncode == 0, run.output[-4000:]
    [fax] = ecall_sandbox.messages_of("fax")
    assert fax.addresses == ("+41440000001",)
    assert fax.message.startswith("Stock at close of business")
    assert "Items: 2545" in fax.message
    assert fax.params["Subject"].startswith("Stock report ")
    assert fax.params["HeaderId"] == "Example AG"
    assert fax.params["NumberOfRetries"] == "2"
    assert fax.params["RetryIntervalInMinutes"] == "10"
    # 07:00 Europe/Zurich, with its offset (+01:00 in winter, +02:00 in summer).
    assert fax.params["SendDate"][10:] in {"T07:00:00+01:00", "T07:00:00+02:00"}


@pytest.mark.e2e
@runs_here
def test_mapped_recipients_sends_one_sms_per_roster_entry(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    roster = ["+41790000081", "+41790000082", "+41790000083", "+41790000084"]
    run = _dags_test(
        run_dags_test, ecall_sandbox, "ecall_mapped_recipients", ECALL_ROSTER=";".join(roster)
    )

    assert run.returncode == 0, run.output[-4000:]
    sent = sorted(ecall_sandbox.messages_of("sms"), key=lambda m: m.addresses)
    assert [m.addresses for m in sent] == [(number,) for number in roster]
    assert [f"number {n} on" in m.message for n, m in enumerate(sent, 1)] == [True] * 4
    assert len({m.job_id for m in sent}) == 4  # one JobID per map index
    assert "eCall accepted 4 job(s) for 4 recipient(s)" in run.output


SMS_NUMBER, FAX_NUMBER = "+41790000071", "+41440000071"
FALLBACK_ENV = {
    "ECALL_REPORT_RECIPIENTS": SMS_NUMBER,
    "ECALL_FAX_RECIPIENTS": FAX_NUMBER,
    "ECALL_DELIVERY_POLL_SECONDS": "0.2",
}


@pytest.mark.e2e
@runs_here
@pytest.mark.ecall_delivery(delay=0.5)
def test_delivery_fallback_waits_for_the_sms_and_skips_the_fax(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(run_dags_test, ecall_sandbox, "ecall_delivery_fallback", **FALLBACK_ENV)

    assert run.returncode == 0, run.output[-4000:]
    assert run.dag_run_state == "success"
    assert [m.kind for m in ecall_sandbox.messages] == ["sms"]
    assert "1284 orders" in ecall_sandbox.messages[0].message
    assert "running trigger in line" in run.output  # it waited in the (in-line) triggerer
    if airflow_at_least("3.0"):  # 2.11 logs no line of its own when the task defers
        assert "Pausing task as DEFERRED" in run.output


@pytest.mark.e2e
@runs_here
@pytest.mark.ecall_delivery(delay=0.5, failing=[SMS_NUMBER])
def test_delivery_fallback_faxes_the_report_when_the_sms_fails(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox
) -> None:
    run = _dags_test(run_dags_test, ecall_sandbox, "ecall_delivery_fallback", **FALLBACK_ENV)

    assert run.returncode == 0, run.output[-4000:]
    assert [m.kind for m in ecall_sandbox.messages] == ["sms", "fax"]  # the SMS once, no retry
    sms, fax = ecall_sandbox.messages
    assert fax.addresses == (FAX_NUMBER,)
    assert fax.message.startswith(sms.message)
    assert "the SMS of this report was not delivered" in fax.message
    assert "eCall delivery failed for 1 recipient(s)" in run.output
    assert "+41******071: failed (2 Error)" in run.output


#: The README's quick start: the first Python block after its heading.
QUICK_START = re.compile(r"^## Quick start\n.*?```python\n(.*?)^\s*```", re.S | re.M)


@pytest.mark.e2e
@runs_here
def test_readme_quick_start_runs_as_written(
    run_dags_test: RunDagsTest, ecall_sandbox: EcallSandbox, tmp_path: Path
) -> None:
    found = QUICK_START.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no Python block under '## Quick start'"
    (tmp_path / "nightly_load.py").write_text(textwrap.dedent(found.group(1)))
    run = run_dags_test(
        "nightly_load", dags_folder=tmp_path, env=sandbox_connection_env(ecall_sandbox)
    )

    assert run.returncode == 0, run.output[-4000:]
    assert run.dag_run_state == "success"
    [sms] = ecall_sandbox.messages
    assert sms.addresses == ("+41790000001", "+41790000005")
    assert sms.message.startswith("Loaded 4812 rows (manual__")
