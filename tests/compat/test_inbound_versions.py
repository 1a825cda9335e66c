"""Inbound SMS pieces on every supported Airflow: from 3.0 they are built; before, a DAG file
using them fails at parse naming the minimum version — and the delivery trigger, which
shares their module of public names, still imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from airflow_provider_ecall.utils.compat import AirflowVersionError, airflow_at_least

pytestmark = pytest.mark.compat(
    feature="Inbound SMS: asset-watcher trigger, reply sensor, callback receiver", since="3.0"
)

NUMBER = "+41791112233"


def test_the_inbound_trigger_exists_from_3_0_and_names_its_minimum_before() -> None:
    from airflow_provider_ecall.triggers import ecall

    assert ecall.EcallDeliveryTrigger is not None
    if airflow_at_least("3.0"):
        assert ecall.EcallInboundSmsTrigger(poll_interval=5).serialize()[1]["poll_interval"] == 5
        return
    with pytest.raises(AirflowVersionError, match=r"inbound SMS triggers .* needs Airflow 3\.0"):
        ecall.EcallInboundSmsTrigger  # noqa: B018


def test_the_reply_sensor_exists_from_3_0_and_names_its_minimum_before() -> None:
    from airflow_provider_ecall.sensors.ecall import EcallReplySensor

    if airflow_at_least("3.0"):
        assert EcallReplySensor(task_id="wait", from_numbers=NUMBER).words == ["ACK"]
        return
    with pytest.raises(AirflowVersionError, match=r"EcallReplySensor .* needs Airflow 3\.0"):
        EcallReplySensor(task_id="wait", from_numbers=NUMBER)


def test_a_configured_receiver_loads_from_3_0_and_names_its_minimum_before() -> None:
    env = {**os.environ, "AIRFLOW__ECALL__CALLBACK_TOKENS": "t" * 40}
    done = subprocess.run(
        [sys.executable, "-c", "import airflow_provider_ecall.plugins.ecall"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if airflow_at_least("3.0"):
        assert done.returncode == 0, done.stderr[-2000:]
    else:
        assert "callback receiver (api-server plugins) needs Airflow 3.0" in done.stderr
    assert "t" * 40 not in done.stdout + done.stderr
