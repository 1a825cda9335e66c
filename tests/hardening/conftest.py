"""Hardening fixtures: a canary server (the sandbox and client come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hardening.servers import Canary


@pytest.fixture
def canary() -> Iterator[Canary]:
    with Canary() as server:
        yield server
