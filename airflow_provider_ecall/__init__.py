"""Apache Airflow provider for eCall: SMS, fax and voice messages as tasks and callbacks.

Only ``__version__`` and :func:`get_provider_info` live here: this module is imported by
Airflow's ProvidersManager and on DAG parses, so it imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_CONN_FIELDS: dict[str, Any] = {
    "timeout": {
        "label": "Timeout (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1},
        "description": "Read timeout for each request (default 30).",
    },
    "default_callback": {
        "label": "Default sender (CallBack)",
        "schema": {"type": ["string", "null"], "maxLength": 16},
        "description": "SMS sender id when a task sets none: up to 16 digits or 11 characters.",
    },
    "batch_size": {
        "label": "Batch size",
        "schema": {"type": ["integer", "null"], "minimum": 1},
        "description": "Recipients per request; longer lists are sent in several requests.",
    },
    "fallback_url": {
        "label": "Fallback base URL",
        "schema": {"type": ["string", "null"]},
        "description": "Tried only when the base URL cannot be reached (refused, DNS, "
        "connect timeout); never after a request may have arrived.",
    },
}

_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    # Kebab-case keys: Airflow 3.2+ reads "hidden-fields" from provider info (a snake_case
    # "hidden_fields" is ignored there); the hook converts them for older UIs.
    "hidden-fields": ["schema", "port", "extra"],
    "relabeling": {"host": "Base URL", "login": "UserName", "password": "Password"},
    "placeholders": {
        "host": "https://url.ecall.ch",
        "login": "eCall account or interface user",
        "password": "eCall password",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (entry point
    ``apache_airflow_provider``)."""
    return {
        "package-name": "airflow-provider-ecall",
        "name": "eCall",
        "description": "Send SMS, fax and voice (text-to-speech) messages through eCall "
        "(https://www.ecall.ch) as tasks and as task or DAG callbacks.",
        "versions": [__version__],
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
                "conn-fields": _CONN_FIELDS,
                "ui-field-behaviour": _UI_FIELD_BEHAVIOUR,
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
        ],
    }
