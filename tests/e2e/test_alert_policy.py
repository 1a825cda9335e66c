"""The opt-in cluster policy, loaded by Airflow itself from the ``airflow.policy`` entry
point: in one failing DAG run, the task without a failure callback pages and the task whose
author set a callback keeps it and pages nothing. (Without ``[ecall] alert_policy_to`` the
policy is off: every other test runs so and counts the sandbox's messages exactly.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.policy import read_policy_settings
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.conftest import AirflowRun
from tests.e2e.conftest import sandbox_connection_env

pytestmark = pytest.mark.compat(feature="Cluster policy: alerts for every DAG")

NUMBER = "+41791112233"
DAGS = """
from datetime import datetime
from pathlib import Path
from airflow_provider_ecall.utils.compat import DAG, BaseOperator


class Fail(BaseOperator):
    def execute(self, context):
        raise RuntimeError("disk full")


def author_callback(context):
    Path(__file__).with_name("author_ran").write_text("yes")


with DAG("policy_dag", schedule=None, start_date=datetime(2025, 1, 1), tags=["prod"]):
    Fail(task_id="bare")
    Fail(task_id="owned", on_failure_callback=author_callback)
"""


@pytest.mark.e2e
def test_a_task_without_a_failure_callback_pages_and_an_authors_callback_is_kept(
    run_dags_test: Callable[..., AirflowRun], e2e_dags_folder: Path, ecall_sandbox: EcallSandbox
) -> None:
    (e2e_dags_folder / "policy_dags.py").write_text(DAGS, encoding="utf-8")
    env = {
        **sandbox_connection_env(ecall_sandbox),
        "AIRFLOW__ECALL__ALERT_POLICY_TO": NUMBER,
        "AIRFLOW__ECALL__ALERT_POLICY_INCLUDE_TAGS": "prod, nightly",
    }
    run = run_dags_test("policy_dag", dags_folder=e2e_dags_folder, env=env)
    assert run.dag_run_state == "failed", run.output[-3000:]
    (sms,) = ecall_sandbox.messages
    assert sms.message.startswith("Airflow: task policy_dag.bare failed")
    assert tuple(sms.addresses) == (NUMBER,)
    assert (e2e_dags_folder / "author_ran").read_text() == "yes"


def test_tags_choose_the_dags_and_a_malformed_setting_names_itself() -> None:
    settings = {"alert_policy_to": NUMBER, "alert_policy_kind": "pager"}
    with pytest.raises(EcallValidationError) as caught:
        read_policy_settings(lambda option: settings.get(option, ""))
    assert caught.value.field == "[ecall] alert_policy_kind"
    assert read_policy_settings(lambda option: "") is None  # off unless recipients are set
    covered = read_policy_settings(
        lambda option: {
            "alert_policy_to": NUMBER,
            "alert_policy_include_tags": "prod, nightly",
            "alert_policy_exclude_tags": "experimental",
        }.get(option, "")
    )
    assert covered is not None
    assert covered.covers(["prod", "x"])
    assert not covered.covers(["dev"])
    assert not covered.covers(["prod", "experimental"])
