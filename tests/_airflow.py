"""Airflow names the tests use beyond the provider's own (``airflow_provider_ecall.utils.compat``),
for every supported release: the tests run on 2.11 to 3.3 in ``make test-compat``."""

from __future__ import annotations

from airflow_provider_ecall.utils.compat import AIRFLOW_VERSION

if AIRFLOW_VERSION >= (3, 1, 0):
    from airflow.sdk import Connection, task
    from airflow.sdk.log import redact
elif AIRFLOW_VERSION >= (3, 0, 0):
    from airflow.sdk import Connection, task
    from airflow.sdk.execution_time.secrets_masker import redact
else:
    from airflow.decorators import task
    from airflow.models.connection import Connection
    from airflow.utils.log.secrets_masker import redact

__all__ = [
    "DAGS_TEST_SECRET_ECHO",
    "DAG_IMPORTS",
    "EXCEPTION_IN_DAG_TEST",
    "TRACEBACK_LOCALS_ECHO",
    "Connection",
    "redact",
    "task",
]

#: Whether ``dag.test()`` / ``airflow dags test`` give task callbacks the ``exception``: not
#: on 3.0 to 3.2, whose in-process runner leaves it out (their worker runs have it).
EXCEPTION_IN_DAG_TEST = not ((3, 0, 0) <= AIRFLOW_VERSION < (3, 3, 0))

#: Airflow 3.0's in-process runner (``dags test``) logs each message between task and
#: supervisor at debug level: the secrets it masks (``Sending request msg=MaskSecret(value=...)``)
#: and the rendered fields before any redaction (``msg=SetRenderedFields(...)``). Lines
#: matching this are Airflow's own debug echo, not the provider's; 3.1 and later print neither.
#: (That 3.0 stores rendered fields redacted only by the API server's masker is documented in
#: the version notes of docs/compatibility.md.)
DAGS_TEST_SECRET_ECHO = r"Sending request +msg=MaskSecret\(value=|msg=SetRenderedFields\("

#: Airflow 3.0's console log renderer prints a failing task's traceback with every frame's
#: locals (rich's panels, drawn with "│"; its task log files do not, and 3.1 and later do not).
#: A number passed through the operator and hook is among those locals. The password is not
#: (the client holds it in a ``Secret`` and posts a ``Form`` that never shows its values), so
#: only the number check passes over these lines on 3.0.
TRACEBACK_LOCALS_ECHO = "│" if (3, 0, 0) <= AIRFLOW_VERSION < (3, 1, 0) else None

#: The imports of a DAG file that runs on every supported release (what a user would write).
DAG_IMPORTS = """\
try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
"""
