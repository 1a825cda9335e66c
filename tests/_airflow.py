"""Airflow names the tests use beyond the provider's own (``airflow_provider_ecall._compat``),
for every supported release: the tests run on 2.11 to 3.3 in ``make test-compat``."""

from __future__ import annotations

from airflow_provider_ecall._compat import AIRFLOW_VERSION

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
    "Connection",
    "redact",
    "task",
]

#: Whether ``dag.test()`` / ``airflow dags test`` give task callbacks the ``exception``: not
#: on 3.0 to 3.2, whose in-process runner leaves it out (their worker runs have it).
EXCEPTION_IN_DAG_TEST = not ((3, 0, 0) <= AIRFLOW_VERSION < (3, 3, 0))

#: Airflow 3.0's in-process runner (``dags test``) logs each request of the task at debug
#: level, secrets it masks included (``Sending request msg=MaskSecret(value=...)``); a real
#: run does not. Lines matching this are Airflow's, not the provider's.
DAGS_TEST_SECRET_ECHO = r"Sending request +msg=MaskSecret\(value="

#: The imports of a DAG file that runs on every supported release (what a user would write).
DAG_IMPORTS = """\
try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
"""
