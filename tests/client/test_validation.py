"""Every local rule raises EcallValidationError naming the field and the rule."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pendulum
import pytest

from airflow_provider_ecall.client import EcallValidationError, FaxMessage, SmsMessage, VoiceMessage

NUMBER = "+41791112233"

INVALID: list[tuple[type[Any], dict[str, Any], str]] = [
    (SmsMessage, {"address": "", "message": "x"}, "address"),
    (SmsMessage, {"address": " ; ", "message": "x"}, "address"),
    (SmsMessage, {"address": "0791112233", "message": "x"}, "address"),
    (SmsMessage, {"address": "+41 79", "message": "x"}, "address"),
    (SmsMessage, {"address": "+4179111223344556677", "message": "x"}, "address"),
    (SmsMessage, {"address": [NUMBER, 42], "message": "x"}, "address"),
    (SmsMessage, {"address": 41791112233, "message": "x"}, "address"),
    (SmsMessage, {"address": "#team", "message": "x"}, "address"),
    (SmsMessage, {"address": NUMBER, "message": ""}, "message"),
    (SmsMessage, {"address": NUMBER, "message": "   "}, "message"),
    (SmsMessage, {"address": NUMBER, "message": "a\x00b"}, "message"),
    (SmsMessage, {"address": NUMBER, "message": "a" * 1531}, "message"),
    (SmsMessage, {"address": NUMBER, "message": "ж" * 1571}, "message"),
    (SmsMessage, {"address": NUMBER, "message": "x", "job_id": "j" * 51}, "job_id"),
    (SmsMessage, {"address": NUMBER, "message": "x", "job_id": "has space"}, "job_id"),
    (SmsMessage, {"address": NUMBER, "message": "x", "job_id": ""}, "job_id"),
    (SmsMessage, {"address": NUMBER, "message": "x", "send_date": "tomorrow"}, "send_date"),
    (SmsMessage, {"address": NUMBER, "message": "x", "send_date": "2026-13-40"}, "send_date"),
    (SmsMessage, {"address": NUMBER, "message": "x", "send_date": 5}, "send_date"),
    (SmsMessage, {"address": NUMBER, "message": "x", "callback": "1" * 17}, "callback"),
    (SmsMessage, {"address": NUMBER, "message": "x", "callback": "ABCDEFGHIJKL"}, "callback"),
    (SmsMessage, {"address": NUMBER, "message": "x", "callback": "Zürich"}, "callback"),
    (SmsMessage, {"address": NUMBER, "message": "x", "callback": ""}, "callback"),
    (
        SmsMessage,
        {"address": NUMBER, "message": "x", "notification_level": 4},
        "notification_level",
    ),
    (
        SmsMessage,
        {"address": NUMBER, "message": "x", "notification_level": -1},
        "notification_level",
    ),
    (
        SmsMessage,
        {"address": NUMBER, "message": "x", "notification_level": True},
        "notification_level",
    ),
    (
        SmsMessage,
        {"address": NUMBER, "message": "x", "notification_address": "nope"},
        "notification_address",
    ),
    (SmsMessage, {"address": NUMBER, "message": "x", "answer": "ftp://x"}, "answer"),
    (SmsMessage, {"address": NUMBER, "message": "x", "msg_type": "Loud"}, "msg_type"),
    (SmsMessage, {"address": NUMBER, "message": "x", "no_log": "maybe"}, "no_log"),
    (FaxMessage, {"address": NUMBER, "message": "x", "header_id": "h" * 21}, "header_id"),
    (FaxMessage, {"address": NUMBER, "message": "x", "header_info": "h" * 51}, "header_info"),
    (FaxMessage, {"address": NUMBER, "message": "x", "number_of_retries": 10}, "number_of_retries"),
    (
        FaxMessage,
        {"address": NUMBER, "message": "x", "retry_interval_in_minutes": 100},
        "retry_interval_in_minutes",
    ),
    (
        FaxMessage,
        {"address": NUMBER, "message": "x", "retry_interval_in_minutes": 0},
        "retry_interval_in_minutes",
    ),
    (FaxMessage, {"address": NUMBER, "message": "x", "calling_number": "12345"}, "calling_number"),
    (FaxMessage, {"address": NUMBER, "message": "x", "subject": "two\nlines"}, "subject"),
    (VoiceMessage, {"address": NUMBER, "message": "x", "language": "ES"}, "language"),
    (VoiceMessage, {"address": "Oncall Team", "message": "x"}, "address"),
    (VoiceMessage, {"address": NUMBER, "message": "x", "from_text": ""}, "from_text"),
]


@pytest.mark.parametrize(("kind", "fields", "field"), INVALID)
def test_invalid_input_names_the_field(kind: type[Any], fields: dict[str, Any], field: str) -> None:
    with pytest.raises(EcallValidationError) as caught:
        kind(**fields)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert caught.value.rule
    assert isinstance(caught.value, ValueError)


def test_addresses_are_normalised() -> None:
    msg = SmsMessage(address=" +41 79 111 22 33 ; 0041-79-111-22-44;;Oncall Team ", message="x")
    assert msg.recipients == ("+41791112233", "0041791112244", "Oncall Team")
    assert SmsMessage(address=["+41791112233", "+41791112244"], message="x").recipients == (
        "+41791112233",
        "+41791112244",
    )


def test_send_date_always_travels_with_an_offset() -> None:
    naive = SmsMessage(address=NUMBER, message="x", send_date="2026-06-15T14:30:00")
    assert naive.to_params()["SendDate"] == "2026-06-15T14:30:00+00:00"
    zurich = pendulum.datetime(2026, 6, 15, 14, 30, tz="Europe/Zurich")
    assert (
        SmsMessage(address=NUMBER, message="x", send_date=zurich).to_params()["SendDate"]
        == "2026-06-15T14:30:00+02:00"
    )
    aware = datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=timezone.utc)
    assert (
        FaxMessage(address=NUMBER, message="x", send_date=aware).to_params()["SendDate"]
        == "2026-01-02T03:04:05+00:00"
    )


def test_templated_strings_are_accepted_for_numbers_and_flags() -> None:
    msg = SmsMessage(
        address=NUMBER, message="x", notification_level="2", no_log="true", msg_type="flash"
    )
    assert msg.to_params()["NotificationLevel"] == "2"
    assert msg.to_params()["NoLog"] == "1"
    assert msg.to_params()["MsgType"] == "Flash"


def test_repr_masks_numbers() -> None:
    text = repr(SmsMessage(address=[NUMBER, "+41791112244"], message="secret text"))
    assert NUMBER not in text
    assert "+41******233" in text
    assert "secret text" not in text


def test_messages_are_frozen() -> None:
    msg = VoiceMessage(address=NUMBER, message="x")
    with pytest.raises(AttributeError):
        msg.message = "y"  # type: ignore[misc]


def test_errors_quote_numbers_masked() -> None:
    with pytest.raises(EcallValidationError) as caught:
        SmsMessage(address="+41 79 111 22 33 44 55 66 77", message="x")
    assert "+41 79 111" not in str(caught.value)
    assert "+41*" in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"message": "ok \ud800"},
        {"notification_address": "ops\udc00@example.com"},
        {"address": "Oncall\ud800"},
    ],
)
def test_unpaired_surrogates_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(EcallValidationError):
        SmsMessage(**{"address": NUMBER, "message": "x", **fields})
