"""The watchdog's settings: both connection forms, a file under the environment, and a
clear error naming the setting for each kind of bad input (never quoting a password)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from airflow_provider_ecall.watchdog._config import WatchdogConfigError, load_config

SECRET = "s3cret-pw"
CONN = {"conn_type": "ecall", "host": "http://127.0.0.1:9", "login": "u", "password": SECRET}
BASE = {
    "ECALL_WATCHDOG_AIRFLOW_URL": "http://127.0.0.1:8080",
    "ECALL_WATCHDOG_ECALL_CONNECTION": json.dumps(CONN),
    "ECALL_WATCHDOG_TO": "+41791110001; +41791110002",
}


def test_the_environment_alone_configures_a_watchdog() -> None:
    config = load_config(BASE)
    assert config.ecall.base_url == "http://127.0.0.1:9"
    assert config.to == ("+41791110001", "+41791110002")
    assert config.name == "127.0.0.1"
    assert (config.grace, config.poll_interval, config.routes) == (timedelta(minutes=2), 30, ())
    assert SECRET not in repr(config)


def test_a_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "watchdog.json"
    path.write_text(
        json.dumps(
            {
                "name": "prod",
                "grace": 10,
                "airflow_username": "watch",
                "airflow_password": "pw",
                "routes": [{"dags": "*", "to": "+41791110009"}],
                "deadman": {"nightly": 90000},
            }
        )
    )
    config = load_config({**BASE, "ECALL_WATCHDOG_CONFIG": str(path), "ECALL_WATCHDOG_GRACE": "5"})
    assert (config.name, config.grace) == ("prod", timedelta(seconds=5))
    assert config.routes[0].to == ("+41791110009",)
    assert config.deadman == {"nightly": timedelta(seconds=90000)}


def test_the_connection_uri_form_works_too() -> None:
    uri = f"ecall://u:{SECRET}@http%3A%2F%2F127.0.0.1%3A9?timeout=7"
    config = load_config({**BASE, "ECALL_WATCHDOG_ECALL_CONNECTION": uri})
    assert config.ecall.base_url == "http://127.0.0.1:9"
    assert isinstance(config.ecall.timeout, tuple)
    assert config.ecall.timeout[1] == 7.0


@pytest.mark.parametrize(
    ("change", "setting", "words"),
    [
        ({"ECALL_WATCHDOG_AIRFLOW_URL": "localhost:8080"}, "airflow_url", "http(s) URL"),
        ({"ECALL_WATCHDOG_AIRFLOW_URL": ""}, "airflow_url", "http(s) URL"),
        ({"ECALL_WATCHDOG_AIRFLOW_URL": f"http://a:{SECRET}@h"}, "airflow_url", "credentials"),
        (
            {"ECALL_WATCHDOG_ECALL_CONNECTION": json.dumps({**CONN, "password": ""})},
            "ecall_connection",
            "password",
        ),
        ({"ECALL_WATCHDOG_ECALL_CONNECTION": "{not json"}, "ecall_connection", "JSON"),
        ({"ECALL_WATCHDOG_TO": ""}, "to", ""),
        ({"ECALL_WATCHDOG_ROUTES": '[{"dags": "*"}]'}, "routes", "needs 'dags'"),
        ({"ECALL_WATCHDOG_ROUTES": "[{"}, "routes", "not valid JSON"),
        ({"ECALL_WATCHDOG_GRACE": "soon"}, "grace", "seconds"),
        (
            {"ECALL_WATCHDOG_ROUTES": '[{"dags": "*", "to": "+41791110001"}]'},
            "airflow_username",
            "needed",
        ),
        ({"ECALL_WATCHDOG_DEADMAN": '{"nightly": 5}'}, "deadman", "seconds"),
        ({"ECALL_WATCHDOG_CONFIG": "/nonexistent/watchdog.json"}, "config", "cannot read"),
    ],
)
def test_bad_input_stops_the_start_naming_the_setting(
    change: dict[str, str], setting: str, words: str
) -> None:
    with pytest.raises(WatchdogConfigError) as caught:
        load_config({**BASE, **change})
    assert caught.value.setting == setting
    assert f"ECALL_WATCHDOG_{setting.upper()}" in str(caught.value)
    assert words in str(caught.value)
    assert SECRET not in str(caught.value)
