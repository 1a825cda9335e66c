"""Exact response bodies, as the reference shows them."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow_provider_ecall.sandbox import bodies
from airflow_provider_ecall.sandbox.state import InboundSms, RecipientStatus
from tests.sandbox.conftest import Api

NS = (
    'xmlns="http://schemas.datacontract.org/2004/07/eCallHttp.Models" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
)
WINTER = datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc)


def test_ok_result_is_byte_exact(api: Api) -> None:
    expected = (
        f'<Result {NS}><AdditionalInfo i:nil="true"/><ResultCode>0</ResultCode>'
        "<ResultText>OK</ResultText></Result>"
    ).encode()

    assert bodies.result_body(0, "OK") == expected
    assert api.sms().content == expected


def test_result_text_is_escaped() -> None:
    body = bodies.result_body(11000, 'a<b & "c"')

    assert b'<ResultText>a&lt;b &amp; "c"</ResultText>' in body
    assert not body.startswith(b"<?xml")


def test_statuses_body_children_in_alphabetical_order() -> None:
    item = RecipientStatus("job&1", "+41791112233", 1, "Transmitted", WINTER, WINTER)

    assert (
        bodies.statuses_body([item])
        == (
            f"<Statuses {NS}><Status><Address>+41791112233</Address><JobID>job&amp;1</JobID>"
            "<StatusCode>1</StatusCode><StatusText>Transmitted</StatusText>"
            "<TimeStamp>2026-11-25T16:30:00+01:00</TimeStamp></Status></Statuses>"
        ).encode()
    )
    assert bodies.statuses_body([]) == f"<Statuses {NS}></Statuses>".encode()


def test_summer_timestamp_has_summer_offset() -> None:
    summer = datetime(2026, 6, 15, 12, 30, 45, 123456, tzinfo=timezone.utc)

    assert bodies.format_timestamp(summer) == "2026-06-15T14:30:45+02:00"


def test_incoming_sms_body_matches_reference_layout() -> None:
    sms = InboundSms("m1", "+41791112233", "+41790000001", "Ja & nein", WINTER)

    assert bodies.incoming_body(sms) == (
        b"<IncomingSMS><Result><ResultCode>0</ResultCode><ResultText>OK</ResultText></Result>"
        b"<MessageID>m1</MessageID><SMS><Message>Ja &amp; nein</Message>"
        b"<AddressTo>+41790000001</AddressTo><AddressFrom>+41791112233</AddressFrom>"
        b"<TimeStamp>2026-11-25T16:30:00+01:00</TimeStamp></SMS></IncomingSMS>"
    )
