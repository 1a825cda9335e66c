"""Example DAGs of the provider, as users get them, in the deployment check's DAG folder.

Each example is loaded from ``example_dags/`` unchanged; what it reads at parse (numbers,
timeouts, its ``ecall_default`` connection) comes from the environment ``make e2e`` gives
every Airflow process (``python -m scripts.deployment``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from airflow.sdk import DAG

EXAMPLES = Path(__file__).resolve().parents[3] / "example_dags"


def _example_dag(name: str) -> DAG:
    """The ``dag`` of ``example_dags/<name>.py``."""
    spec = importlib.util.spec_from_file_location(f"e2e_example_{name}", EXAMPLES / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {spec}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert isinstance(dag, DAG)
    return dag


# SMS -> wait for ACK -> voice call -> wait -> SMS and call to the second person.
ecall_ack_escalation = _example_dag("ecall_ack_escalation")
