"""Pytest fixtures for testing DAGs and code against a local eCall sandbox.

Registered through the ``pytest11`` entry point, so it loads in every pytest run of an
environment where the provider is installed: it imports nothing heavy (no Airflow, and the
sandbox itself only when a fixture is used).

- ``ecall_sandbox``: a started :class:`~airflow_provider_ecall.sandbox.EcallSandbox`,
  stopped after the test.
- ``ecall_sandbox_connection``: the same sandbox, with ``AIRFLOW_CONN_ECALL_DEFAULT`` set to
  a connection that points at it (so ``EcallHook()`` / the operators use it).
- ``@pytest.mark.ecall_delivery(delay=0.2, failing=[...], never=[...], unanswered=[...],
  unconfirmed=[...])``: how the fixture's deliveries progress (see
  :meth:`~airflow_provider_ecall.sandbox.EcallSandbox.configure_delivery`); a test can also
  call ``ecall_sandbox.configure_delivery(...)`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox.server import EcallSandbox

#: The environment variable Airflow reads the ``ecall_default`` connection from.
CONNECTION_ENV = "AIRFLOW_CONN_ECALL_DEFAULT"


def connection_json(sandbox: EcallSandbox) -> str:
    """Return the Airflow connection JSON that points at ``sandbox``.

    :param sandbox: a started sandbox.
    """
    return json.dumps(
        {
            "conn_type": "ecall",
            "host": sandbox.base_url,
            "login": sandbox.username,
            "password": sandbox.password,
        }
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``ecall_delivery`` marker."""
    config.addinivalue_line(
        "markers",
        "ecall_delivery(delay=, failing=, never=, unanswered=, unconfirmed=): how the "
        "ecall_sandbox fixture's deliveries progress",
    )


@pytest.fixture
def ecall_sandbox(request: pytest.FixtureRequest) -> Iterator[EcallSandbox]:
    """A started eCall sandbox on an ephemeral loopback port, stopped after the test.

    Its delivery behaviour comes from the test's ``ecall_delivery`` marker, if any.
    """
    from airflow_provider_ecall.sandbox.server import EcallSandbox

    with EcallSandbox() as sandbox:
        marker = request.node.get_closest_marker("ecall_delivery")
        if marker is not None:
            sandbox.configure_delivery(*marker.args, **marker.kwargs)
        yield sandbox


@pytest.fixture
def ecall_sandbox_connection(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> EcallSandbox:
    """The ``ecall_sandbox``, with ``AIRFLOW_CONN_ECALL_DEFAULT`` pointing at it."""
    monkeypatch.setenv(CONNECTION_ENV, connection_json(ecall_sandbox))
    return ecall_sandbox
