"""Property-test fixtures: the shared client (tests/conftest.py) with small batches."""

from __future__ import annotations

import pytest

#: Small batches, so recipient lists also exercise splitting and JobID suffixes.
BATCH_SIZE = 4


@pytest.fixture
def client_options() -> dict[str, object]:
    return {"timeout": (2.0, 5.0), "batch_size": BATCH_SIZE}
