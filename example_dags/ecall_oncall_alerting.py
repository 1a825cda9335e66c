"""
### On-call alerting by SMS, with voice escalation

Shows every way an eCall notifier hooks into Airflow's callbacks:

* `default_args={"on_failure_callback": EcallSmsNotifier(...)}`: one notifier shared by
  every task; each failing task gets its own SMS naming that task.
* `settle_payments` is critical: its `on_failure_callback` is a **list**
  `[EcallSmsNotifier(...), EcallVoiceNotifier(...)]` — the on-call engineer gets an SMS
  and a text-to-speech call.
* A DAG-level `on_failure_callback` tells the team lead that the run failed, with the
  notifier's default message.

Two loads and `settle_payments` fail on purpose while the param `simulate_failure` is true
(the default, so a demo run shows the alerts; **the DAG run then fails, as intended**).
Trigger with `{"simulate_failure": false}`, or set the Variable `ecall_simulate_failure`
to `false`, for a green run.

**Recipients**: task alerts go to the Variables `ecall_oncall_sms` / `ecall_oncall_voice`
when they exist, else to the params `oncall_sms` / `oncall_voice`, whose defaults come from
the environment variables `ECALL_ONCALL_SMS` / `ECALL_ONCALL_VOICE` (placeholders
`+41790000002` / `+41790000003`). The DAG-level alert goes to `ECALL_TEAM_LEAD`
(`+41790000004`), read when the file is parsed.

**Connection**: `ecall_default` (type `ecall`).
"""

from __future__ import annotations

import os

import pendulum

try:
    from airflow.sdk import DAG, Param, Variable, get_current_context, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable
    from airflow.models.param import Param
    from airflow.operators.python import get_current_context

from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier, EcallVoiceNotifier

ONCALL_SMS = os.environ.get("ECALL_ONCALL_SMS", "+41790000002")
ONCALL_VOICE = os.environ.get("ECALL_ONCALL_VOICE", "+41790000003")
TEAM_LEAD = os.environ.get("ECALL_TEAM_LEAD", "+41790000004")

#: One notifier for every task (through default_args). Templates are rendered per call,
#: so the second failing task does not inherit the first one's text.
# [START howto_notifier_ecall_default_args]
task_failed_sms = EcallSmsNotifier(
    address="{{ var.value.get('ecall_oncall_sms', params.oncall_sms) }}",
    message=(
        "[{{ dag.dag_id }}] task {{ ti.task_id }} failed (try {{ ti.try_number }}): {{ exception }}"
    ),
    ecall_conn_id="ecall_default",
)
# [END howto_notifier_ecall_default_args]


def _should_fail() -> bool:
    """The param ``simulate_failure``, overridden by the Variable ``ecall_simulate_failure``."""
    params = get_current_context()["params"]
    override = Variable.get("ecall_simulate_failure", None)
    if override is not None:
        return override.strip().lower() in {"1", "true", "yes", "on"}
    return bool(params["simulate_failure"])


with DAG(
    dag_id="ecall_oncall_alerting",
    description="Failure alerts by SMS, escalation by voice, a DAG-level alert",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecall", "example", "alerting", "sms", "voice"],
    doc_md=__doc__,
    params={
        "simulate_failure": Param(
            True, type="boolean", description="Make the loads and the settlement fail"
        ),
        "oncall_sms": Param(ONCALL_SMS, type="string", description="On-call SMS numbers"),
        "oncall_voice": Param(ONCALL_VOICE, type="string", description="Number to call"),
    },
    # [START howto_notifier_ecall_dag_level]
    default_args={"retries": 0, "on_failure_callback": task_failed_sms},
    # Runs once per failed DAG run (in the DAG processor; under `airflow dags test`, in-process).
    on_failure_callback=EcallSmsNotifier(address=TEAM_LEAD, ecall_conn_id="ecall_default"),
    # [END howto_notifier_ecall_dag_level]
) as dag:

    @task
    def load_orders() -> int:
        """Always succeeds."""
        return 4812

    @task
    def load_customers() -> int:
        """Fails while ``simulate_failure`` is on: the shared SMS notifier fires."""
        if _should_fail():
            raise ConnectionError("CRM database at crm-db:5432 refused the connection")
        return 913

    @task
    def load_inventory() -> int:
        """Fails while ``simulate_failure`` is on: the same shared notifier fires again."""
        if _should_fail():
            raise TimeoutError("inventory export did not arrive by 06:00")
        return 27

    @task(
        # [START howto_notifier_ecall_escalation_list]
        on_failure_callback=[
            EcallSmsNotifier(
                address="{{ var.value.get('ecall_oncall_sms', params.oncall_sms) }}",
                message="CRITICAL [{{ dag.dag_id }}] {{ ti.task_id }} failed: {{ exception }}",
                ecall_conn_id="ecall_default",
            ),
            EcallVoiceNotifier(
                address="{{ var.value.get('ecall_oncall_voice', params.oncall_voice) }}",
                message=(
                    "Critical alert. The task {{ ti.task_id }} of the pipeline "
                    "{{ dag.dag_id }} has failed. Please check Airflow now."
                ),
                language="EN",
                from_text="Airflow",
                ecall_conn_id="ecall_default",
            ),
        ],
        # [END howto_notifier_ecall_escalation_list]
    )
    def settle_payments(orders: int) -> str:
        """Critical: a failure here escalates by SMS and by a voice call."""
        if _should_fail():
            raise RuntimeError(f"payment provider rejected the settlement of {orders} orders")
        return "settled"

    @task
    def publish(orders: int, customers: int, inventory: int, settlement: str) -> None:
        """Runs only when everything upstream succeeded."""
        print(f"published {orders} orders, {customers} customers, {inventory} items: {settlement}")

    orders = load_orders()
    publish(orders, load_customers(), load_inventory(), settle_payments(orders))
