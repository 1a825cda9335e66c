"""Each example request of the vendor's "Send methods" page, as it reaches the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from airflow_provider_ecall.client import EcallClient, FaxMessage, Message, SmsMessage, VoiceMessage
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.client.conftest import SeenRequests

# (message, the vendor example's parameters apart from UserName/Password)
EXAMPLES: list[tuple[Message, dict[str, str]]] = [
    (
        SmsMessage(address="+41791112233", message="Test message", job_id="sms-min"),
        {"Address": "+41791112233", "Message": "Test message", "JobID": "sms-min"},
    ),
    (
        SmsMessage(
            address="+41791112233", message="Test message", callback="+41791234567", job_id="s2"
        ),
        {
            "Address": "+41791112233",
            "Message": "Test message",
            "CallBack": "+41791234567",
            "JobID": "s2",
        },
    ),
    (
        SmsMessage(
            address="+41791112233",
            message="Test message",
            msg_type="Flash",
            no_log=True,
            job_id="s3",
        ),
        {
            "Address": "+41791112233",
            "Message": "Test message",
            "MsgType": "Flash",
            "NoLog": "1",
            "JobID": "s3",
        },
    ),
    (
        FaxMessage(address="+41447873071", message="Test message", job_id="f1"),
        {"Address": "+41447873071", "Message": "Test message", "JobID": "f1"},
    ),
    (
        FaxMessage(
            address="+41447873071",
            message="Test message",
            subject="Test",
            calling_number="+41431234576",
            send_date="2026-06-15T14:30:00+02:00",
            job_id="123AB",
        ),
        {
            "Address": "+41447873071",
            "Message": "Test message",
            "Subject": "Test",
            "CallingNumber": "+41431234576",
            "SendDate": "2026-06-15T14:30:00+02:00",
            "JobID": "123AB",
        },
    ),
    (
        VoiceMessage(address="+41447873070", message="Test message", job_id="v1"),
        {"Address": "+41447873070", "Message": "Test message", "JobID": "v1"},
    ),
    (
        VoiceMessage(
            address="+41447873070",
            message="Test message",
            from_text="John Smith",
            language="EN",
            send_date="2026-06-15T14:30:00+02:00",
            job_id="123AB",
        ),
        {
            "Address": "+41447873070",
            "Message": "Test message",
            "FromText": "John Smith",
            "Language": "EN",
            "SendDate": "2026-06-15T14:30:00+02:00",
            "JobID": "123AB",
        },
    ),
]


@pytest.mark.parametrize(("message", "expected"), EXAMPLES)
def test_vendor_example_on_the_wire(
    client: EcallClient,
    sandbox: EcallSandbox,
    wire: SeenRequests,
    message: Message,
    expected: dict[str, str],
) -> None:
    result = client.send(message)

    [received] = sandbox.messages
    assert received.kind == message.kind
    assert received.params == expected
    assert received.method == "POST"
    assert result.endpoint == message.endpoint
    assert result.job_id == expected["JobID"]
    assert result.batches[0].result_code == 0
    assert result.batches[0].http_status == 200
    # credentials travel in the form body, never in the URL
    [url] = wire.urls
    assert url == f"{sandbox.base_url}/{message.endpoint}"
    form = parse_qs(wire.bodies[0])
    assert form["UserName"] == [sandbox.username]
    assert form["Password"] == [sandbox.password]
    assert sandbox.password not in url


def test_utf8_text_arrives_unchanged(client: EcallClient, sandbox: EcallSandbox) -> None:
    text = "Grüezi 😀 – Ça va? € [ok] & <xml> %2B"
    client.send(SmsMessage(address="+41791112233", message=text))
    assert sandbox.messages[0].message == text


def test_a_job_id_is_generated_when_none_is_given(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    result = client.send(SmsMessage(address="+41791112233", message="x"))
    assert len(result.job_id) == 32
    assert sandbox.messages[0].job_id == result.job_id


def test_one_keep_alive_connection_serves_many_sends(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    for _ in range(5):
        client.send(SmsMessage(address="+41791112233", message="x"))
    pool = client._transport._session.get_adapter(sandbox.base_url).poolmanager
    [connection_pool] = pool.pools._container.values()
    assert connection_pool.num_connections == 1
    assert len(sandbox.messages) == 5
