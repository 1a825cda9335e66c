"""DAG files import the provider on every parse: that import must not load what only a
send needs. (Timing lives in ``make bench``; this pins the module set, which cannot flake.)"""

from __future__ import annotations

import json
import subprocess
import sys

SEND_TIME_MODULES = [
    "airflow_provider_ecall.client.messages",
    "airflow_provider_ecall.client.validation",
    "airflow_provider_ecall.client.lengths",
    "airflow_provider_ecall.client.client",
    "airflow_provider_ecall.client.transport",
    "airflow_provider_ecall.client.responses",
    "airflow_provider_ecall.hooks.settings",
    "airflow_provider_ecall.notifications._alerts",
    "airflow_provider_ecall.notifications._policy",
    "airflow_provider_ecall.delivery.wait",
    "airflow_provider_ecall.client.delivery",
    "airflow_provider_ecall.client.planner",
    "airflow_provider_ecall.triggers._delivery",
    "airflow_provider_ecall.triggers._poller",
    "defusedxml",
]

PROBE = """
import json, sys
import airflow.sdk
before = set(sys.modules)
import airflow_provider_ecall.operators.ecall
import airflow_provider_ecall.notifications.ecall
import airflow_provider_ecall.hooks.ecall
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_a_dag_parse_import_loads_no_send_time_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert "airflow_provider_ecall.operators.ecall" in loaded  # the probe measured something
    assert sorted(loaded & set(SEND_TIME_MODULES)) == []
    assert "requests" not in loaded
