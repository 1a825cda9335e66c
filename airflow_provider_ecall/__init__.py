"""Apache Airflow provider for eCall: SMS, fax and voice messages as tasks and callbacks.

Only ``__version__`` and :func:`get_provider_info` live here: this module is imported by
Airflow's ProvidersManager and on DAG parses, so it imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (entry point
    ``apache_airflow_provider``)."""
    from airflow_provider_ecall.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
    from airflow_provider_ecall.plugins.config import CONFIG

    return {
        "package-name": "airflow-provider-ecall",
        "name": "eCall",
        "description": "Send SMS, fax and voice (text-to-speech) messages through eCall "
        "(https://www.ecall.ch) as tasks and as task or DAG callbacks.",
        "versions": [__version__],
        "config": CONFIG,
        "integrations": [
            {
                "integration-name": "eCall",
                "external-doc-url": "https://developer.ecall-messaging.com/",
                "tags": ["service"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "ecall",
                "hook-class-name": "airflow_provider_ecall.hooks.ecall.EcallHook",
                "hook-name": "eCall",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [
            {
                "integration-name": "eCall",
                "python-modules": ["airflow_provider_ecall.hooks.ecall"],
            }
        ],
        "operators": [
            {
                "integration-name": "eCall",
                "python-modules": ["airflow_provider_ecall.operators.ecall"],
            }
        ],
        "sensors": [
            {
                "integration-name": "eCall",
                "python-modules": ["airflow_provider_ecall.sensors.ecall"],
            }
        ],
        "triggers": [
            {
                "integration-name": "eCall",
                "python-modules": ["airflow_provider_ecall.triggers.ecall"],
            }
        ],
        "notifications": [
            "airflow_provider_ecall.notifications.ecall.EcallSmsNotifier",
            "airflow_provider_ecall.notifications.ecall.EcallFaxNotifier",
            "airflow_provider_ecall.notifications.ecall.EcallVoiceNotifier",
            "airflow_provider_ecall.notifications.hitl.EcallHITLNotifier",
        ],
        "plugins": [
            {
                "name": "ecall_callbacks",
                "plugin-class": "airflow_provider_ecall.plugins.ecall.EcallCallbackPlugin",
            }
        ],
    }
