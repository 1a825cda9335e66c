"""Inbound SMS and callbacks in the sandbox: the control endpoint and its CLI, and the GETs
eCall makes to ``Answer`` and ``NotificationAddress`` URLs (Windows-1252, eCall's times)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import callback_url, reply_params
from airflow_provider_ecall.sandbox.inject import main as inject
from tests.hardening.servers import Canary

SENDER = "+41791112233"
LEASED = "+41790000000"


def _query(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query, encoding="cp1252", errors="strict"))


def test_the_cli_caches_an_sms_that_the_cache_then_serves(
    ecall_sandbox: EcallSandbox, client: EcallClient, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sms", "--sandbox", ecall_sandbox.base_url, "--from", SENDER, "--to", LEASED]
    assert inject([*args, "--message", "ACK grüezi"]) == 0
    message_id = capsys.readouterr().out.strip()
    found = client.get_next_inbound()
    assert found is not None
    assert (found.message_id, found.message, found.address_from) == (
        message_id,
        "ACK grüezi",
        SENDER,
    )


def test_the_control_endpoint_wants_the_credentials_and_every_field(
    ecall_sandbox: EcallSandbox,
) -> None:
    base = ["sms", "--sandbox", ecall_sandbox.base_url, "--from", SENDER, "--to", LEASED]
    with pytest.raises(SystemExit, match="Access denied"):
        inject([*base, "--message", "x", "--password", "wrong"])
    with pytest.raises(SystemExit, match="Message is required"):
        inject([*base, "--message", ""])
    assert [r.result_code for r in ecall_sandbox.requests] == [11001, 11000]


def test_callback_queries_are_windows_1252_with_ecall_times() -> None:
    moment = datetime(2026, 1, 15, 9, 30, 5, tzinfo=timezone.utc)  # 10:30:05 in Zurich
    params = reply_params(
        address_from=SENDER, address_to=LEASED, message="Grüezi 😀", timestamp=moment
    )
    url = callback_url("https://example.org/cb?tok=1", params)
    assert "Gr%FCezi+%3F" in url  # ü is one byte in Windows-1252; the emoji has none
    assert url.startswith("https://example.org/cb?tok=1&Function=Answer&")
    assert _query(url)["TimeStamp"] == "15.01.2026 10:30:05"


def test_an_answer_goes_to_the_answer_url_or_else_into_the_cache(
    ecall_sandbox: EcallSandbox, client: EcallClient
) -> None:
    with Canary() as receiver:
        client.send(
            SmsMessage(
                address=SENDER, message="disk full", job_id="j-url", answer=f"{receiver.url}/cb"
            )
        )
        client.send(SmsMessage(address=SENDER, message="disk full", job_id="j-cache"))
        assert ecall_sandbox.answer("j-url", "ACK café") == 200
        cached_id = ecall_sandbox.answer("j-cache", "ACK")
    [hit] = receiver.hits
    assert urlsplit(hit).path == "/cb"
    query = _query(hit)
    assert (query["Function"], query["Message"], query["AddressFrom"]) == (
        "Answer",
        "ACK café",
        SENDER,
    )
    assert query["JobID"] == "j-url"
    found = client.get_next_inbound()
    assert found is not None
    assert found.message_id == cached_id


def test_delivery_notifications_report_each_recipient(
    ecall_sandbox: EcallSandbox, client: EcallClient
) -> None:
    with Canary() as receiver:
        client.send(
            SmsMessage(
                address=[SENDER, "+41791112244"],
                message="hi",
                job_id="j-d",
                notification_address=f"{receiver.url}/d",
            )
        )
        ecall_sandbox.set_status("j-d", 8, "Delivered", address=SENDER)
        assert ecall_sandbox.notify_delivery("j-d") == [200, 200]
    reports = sorted((_query(hit)["Number"], _query(hit)["ResultCode"]) for hit in receiver.hits)
    assert reports == [("+41791112233", "8"), ("+41791112244", "1")]
    with pytest.raises(KeyError):
        ecall_sandbox.notify_delivery("unknown")
