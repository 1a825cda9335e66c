"""The ``ecall`` connection form: the extra fields and how the UI shows the standard ones.

Read by :func:`airflow_provider_ecall.get_provider_info` (``conn-fields`` and
``ui-field-behaviour``, the Airflow 3.2+ UI) and by
:class:`~airflow_provider_ecall.hooks.ecall.EcallHook` (the older UIs' form widgets).
Plain data: imported by Airflow's ProvidersManager, so it imports nothing.
"""

from __future__ import annotations

from typing import Any

#: A sender id as the hook checks it (``client.validation.sender``): up to 16 digits with an
#: optional ``+``, or 1 to 11 printable ASCII characters with a letter, no space at either end.
#: Written for both Python's ``re`` (the 2.11 form) and JavaScript (the 3.2+ form's schema).
SENDER_PATTERN = r"^(\+?[0-9]{1,16}|(?=[ -~]{0,10}[A-Za-z])[!-~]([ -~]{0,9}[!-~])?)$"
#: A base URL the client accepts: ``https://``, or ``http://`` to a loopback host only; no
#: credentials, query or fragment.
URL_PATTERN = (
    r"^(https://[^\s/@?#]+|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)(/[^\s?#]*)?$"
)

#: Each extra: its label, JSON schema (the constraints the hook enforces, so the person typing
#: sees the rule) and description; given as they are to Airflow 3.2+ (``conn-fields``).
CONN_FIELDS: dict[str, Any] = {
    "timeout": {
        "label": "Timeout (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1, "maximum": 600},
        "description": "Read timeout for each request, 1 to 600 seconds (default 30).",
    },
    "default_callback": {
        "label": "Default sender (CallBack)",
        "schema": {"type": ["string", "null"], "maxLength": 16, "pattern": SENDER_PATTERN},
        "description": "SMS sender id when a task sets none: up to 16 digits or 11 characters.",
    },
    "batch_size": {
        "label": "Batch size",
        "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 100_000},
        "description": "Recipients per request; longer lists are sent in several requests.",
    },
    "fallback_url": {
        "label": "Fallback base URL",
        "schema": {"type": ["string", "null"], "pattern": URL_PATTERN},
        "description": "https:// only. Tried only when the base URL cannot be reached "
        "(refused, DNS, connect timeout); never after a request may have arrived.",
    },
}

#: What a form says of a value that breaks an extra's schema (the hook's own wording).
RULES: dict[str, str] = {
    "timeout": "must be a number of seconds from 1 to 600",
    "default_callback": "must be up to 16 digits (optionally with a leading '+') or up to 11 "
    "printable ASCII characters including a letter",
    "batch_size": "must be a whole number from 1 to 100000",
    "fallback_url": "must be an https:// URL (plain http only for a loopback host)",
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
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
