"""Client fixtures: a real EcallClient talking HTTP to a sandbox on an ephemeral port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from airflow_provider_ecall.client import EcallClient
from airflow_provider_ecall.sandbox import EcallSandbox


class SeenRequests:
    """What actually went over the wire, recorded by a requests response hook."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.bodies: list[str] = []
        self.methods: list[str] = []

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        request = response.request
        self.urls.append(str(request.url))
        self.methods.append(str(request.method))
        body = request.body
        self.bodies.append(body.decode() if isinstance(body, bytes) else str(body or ""))


@pytest.fixture
def wire() -> SeenRequests:
    return SeenRequests()


@pytest.fixture
def client(ecall_sandbox: EcallSandbox, wire: SeenRequests) -> Iterator[EcallClient]:
    with EcallClient(
        ecall_sandbox.base_url,
        ecall_sandbox.username,
        ecall_sandbox.password,
        timeout=(2.0, 1.0),
    ) as ecall:
        ecall._transport._session.hooks["response"].append(wire)
        yield ecall


@pytest.fixture
def sandbox(ecall_sandbox: EcallSandbox) -> EcallSandbox:
    return ecall_sandbox
