"""The fallback base URL: used only when the first host cannot have received the request.

Two real sandboxes play the two hosts; an unused loopback port plays a host that refuses
connections, a ``.invalid`` name one whose name does not resolve.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from airflow_provider_ecall.client import (
    EcallClient,
    EcallConnectionError,
    EcallServerError,
    EcallValidationError,
    SmsMessage,
)
from airflow_provider_ecall.sandbox import EcallSandbox

SMS = SmsMessage(address="+41791112233", message="via the second way in", job_id="fallback-1")


def _refusing_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def second() -> Iterator[EcallSandbox]:
    """The fallback host: a second sandbox with the same credentials."""
    with EcallSandbox() as sandbox:
        yield sandbox


def _client(primary: str, fallback: str, sandbox: EcallSandbox) -> EcallClient:
    return EcallClient(
        primary,
        sandbox.username,
        sandbox.password,
        fallback_url=fallback,
        connect_retries=0,
        timeout=(2.0, 2.0),
    )


@pytest.mark.parametrize("primary", [_refusing_url(), "https://ecall-primary.invalid"])
def test_an_unreachable_first_host_sends_through_the_fallback(
    second: EcallSandbox, primary: str
) -> None:
    with _client(primary, second.base_url, second) as client:
        result = client.send(SMS)
        assert result.job_id == "fallback-1"
        assert [m.message for m in second.messages] == ["via the second way in"]
        # The status check of a resend goes straight to the host that answered.
        assert client.base_url == second.base_url
        assert len(client.get_status(job_id="fallback-1")) == 1
    assert [r.endpoint for r in second.requests] == ["sms", "state"]


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "sms", "drop": True, "accept": True},  # reached, answer lost
        {"endpoint": "sms", "status": 503},  # reached, eCall failed
        {"endpoint": "sms", "delay": 3.0},  # reached, read timeout
    ],
    ids=["dropped", "5xx", "read-timeout"],
)
def test_a_request_that_may_have_arrived_never_goes_to_the_fallback(
    sandbox: EcallSandbox, second: EcallSandbox, fault: dict[str, object]
) -> None:
    sandbox.inject(**fault)  # type: ignore[arg-type]
    client = _client(sandbox.base_url, second.base_url, sandbox)
    with client, pytest.raises(EcallServerError) as caught:
        client.send(SMS)
    assert not isinstance(caught.value, EcallConnectionError)
    assert second.requests == []


def test_both_hosts_unreachable_is_one_connection_error_naming_both() -> None:
    first, other = _refusing_url(), _refusing_url()
    client = EcallClient(first, "user", "pw", fallback_url=other, connect_retries=0)
    with pytest.raises(EcallConnectionError) as caught:
        client.send(SMS)
    assert first in str(caught.value)
    assert other in str(caught.value)
    assert "nothing was sent" in str(caught.value)


def test_a_fallback_url_follows_the_base_url_rules() -> None:
    with pytest.raises(EcallValidationError) as caught:
        EcallClient("https://url.ecall.ch", "user", "pw", fallback_url="http://backup.example.com")
    assert caught.value.field == "fallback_url"
    assert "plain http is refused" in caught.value.rule
