"""Answers over the body cap are refused without being read whole.

A raw socket server floods 50 MB, declared by ``Content-Length``, chunked, or delimited by
closing the connection. The proof that the client stops early is threefold: urllib3's own
count of body bytes read (``raw.tell()``) stays at most the cap + 1, Python's allocations
during the call stay far below the body size (tracemalloc), and the call returns quickly.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_ecall.client import EcallClient, EcallResponseError, SmsMessage
from airflow_provider_ecall.client.defaults import MAX_BODY_BYTES
from tests.hardening.servers import FloodServer, Framing

FLOOD = 50 * 1024 * 1024
SMS = SmsMessage(address="+41791112233", message="x", job_id="flood")


@pytest.fixture
def responses() -> list[requests.Response]:
    return []


@pytest.fixture
def session(responses: list[requests.Response]) -> Iterator[requests.Session]:
    """A session that keeps every response (before its body is read: ``stream=True``)."""

    def keep(response: requests.Response, *args: object, **kwargs: object) -> None:
        responses.append(response)

    with requests.Session() as plain:
        plain.hooks["response"].append(keep)
        yield plain


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_flood_is_refused_after_at_most_cap_plus_one_bytes(
    session: requests.Session, responses: list[requests.Response], framing: Framing
) -> None:
    with FloodServer(FLOOD, framing) as server:
        client = EcallClient(server.url, "user", "pw", session=session, timeout=(2.0, 5.0))
        tracemalloc.start()
        started = time.perf_counter()
        try:
            with pytest.raises(EcallResponseError, match="cap") as caught:
                client.send(SMS)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        session.close()  # hang up, so the flood stops
        assert server.finished.wait(10)

    (response,) = responses
    assert response.raw.tell() <= MAX_BODY_BYTES + 1
    assert peak < 8 * 1024 * 1024, f"peak allocation {peak} bytes"
    assert elapsed < 5.0
    assert server.written < FLOOD
    assert caught.value.http_status == 200
    assert caught.value.body is None


def test_a_body_just_under_the_cap_is_read(session: requests.Session) -> None:
    """The control: the same server with a body within the cap is read to its end (and then
    refused as not XML), so the refusals above come from the cap."""
    with FloodServer(MAX_BODY_BYTES - 100, "chunked") as server:
        client = EcallClient(server.url, "user", "pw", session=session)
        with pytest.raises(EcallResponseError, match="not well-formed"):
            client.send(SMS)
