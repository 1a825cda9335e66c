"""Hardening fixtures: a real client against the sandbox, and a canary server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_ecall.client import EcallClient
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.hardening.servers import Canary


@pytest.fixture
def sandbox(ecall_sandbox: EcallSandbox) -> EcallSandbox:
    return ecall_sandbox


@pytest.fixture
def client(ecall_sandbox: EcallSandbox) -> Iterator[EcallClient]:
    with EcallClient(
        ecall_sandbox.base_url,
        ecall_sandbox.username,
        ecall_sandbox.password,
        timeout=(2.0, 5.0),
    ) as ecall:
        yield ecall


@pytest.fixture
def canary() -> Iterator[Canary]:
    with Canary() as server:
        yield server
