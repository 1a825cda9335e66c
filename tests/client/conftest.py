"""Client-test fixtures: the shared client (tests/conftest.py) with a wire recorder."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_ecall.client import EcallClient


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
def client_options() -> dict[str, object]:
    return {"timeout": (2.0, 1.0)}  # a short read timeout for the fault matrix


@pytest.fixture
def client(client: EcallClient, wire: SeenRequests) -> EcallClient:
    """The shared client, recording what it puts on the wire."""
    client._transport._session.hooks["response"].append(wire)
    return client
