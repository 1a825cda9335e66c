"""Shared fixtures for the sandbox tests: a running sandbox and a small HTTP helper.

The sandbox's own pytest fixtures are imported here so they work whether or not the
``pytest11`` entry point is installed (``pip install -e .``). A conftest may define the same
fixture names as a plugin — the conftest wins, no double registration happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from defusedxml import ElementTree

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import (  # noqa: F401 - fixtures
    ecall_sandbox,
    ecall_sandbox_connection,
)

PHONE = "+41791112233"


class Api:
    """Plain-``requests`` access to a sandbox (deliberately not the project's client)."""

    def __init__(self, sandbox: EcallSandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def auth(self) -> dict[str, str]:
        return {"UserName": self.sandbox.username, "Password": self.sandbox.password}

    def call(
        self, path: str, method: str = "POST", *, auth: bool = True, **params: Any
    ) -> requests.Response:
        data = {**(self.auth() if auth else {}), **params}
        url = f"{self.sandbox.base_url}/{path.lstrip('/')}"
        if method == "GET":
            return self.session.get(url, params=data, timeout=10)
        return self.session.post(url, data=data, timeout=10)

    def sms(self, method: str = "POST", **params: Any) -> requests.Response:
        params.setdefault("Address", PHONE)
        params.setdefault("Message", "Disk full on db-1")
        return self.call("Api/Sms", method, **params)


def result_of(response: requests.Response) -> tuple[int, str]:
    """Return ``(ResultCode, ResultText)`` from a ``<Result>`` or ``<IncomingSMS>`` body."""
    root = ElementTree.fromstring(response.content)
    code = root.find(".//{*}ResultCode")
    text = root.find(".//{*}ResultText")
    assert code is not None, response.text
    assert text is not None, response.text
    return int(code.text or ""), text.text or ""


def local(element: Any) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def statuses_of(response: requests.Response) -> list[dict[str, str]]:
    """Return each ``<Status>`` of a ``<Statuses>`` body as a dict of child texts."""
    root = ElementTree.fromstring(response.content)
    assert local(root) == "Statuses", response.text
    return [{local(child): child.text or "" for child in status} for status in root]


@pytest.fixture
def sandbox() -> Iterator[EcallSandbox]:
    with EcallSandbox() as started:
        yield started


@pytest.fixture
def api(sandbox: EcallSandbox) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.session.close()
