"""Property-test fixtures: one sandbox and one real client per test function."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_ecall.client import EcallClient
from airflow_provider_ecall.sandbox import EcallSandbox

#: Small batches, so recipient lists also exercise splitting and JobID suffixes.
BATCH_SIZE = 4


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
        batch_size=BATCH_SIZE,
    ) as ecall:
        yield ecall
