"""Inputs and answers found in review: each gives a project error (or works), never a
stray TypeError / ValueError / LookupError / UnicodeError."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_ecall.client import (
    EcallClient,
    EcallResponseError,
    EcallValidationError,
    SmsMessage,
)
from airflow_provider_ecall.client.responses import read_timestamp
from airflow_provider_ecall.sandbox import EcallSandbox

NUMBER = "+41791112233"
SMS = SmsMessage(address=NUMBER, message="x", job_id="r-1")


def test_an_unknown_xml_encoding_is_a_response_error(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    body = '<?xml version="1.0" encoding="x-bogus"?><Result><ResultCode>0</ResultCode></Result>'
    sandbox.inject(endpoint="sms", status=200, body=body)
    with pytest.raises(EcallResponseError) as caught:
        client.send(SMS)
    assert caught.value.retryable


@pytest.mark.parametrize("timeout", [0, -1, "30", (1.0, 0), (1, 2, 3), True])
def test_a_bad_timeout_is_refused_up_front(timeout: object) -> None:
    with pytest.raises(EcallValidationError) as caught:
        EcallClient("https://url.ecall.ch", "u", "p", timeout=timeout)  # type: ignore[arg-type]
    assert caught.value.field == "timeout"


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:99999", "ftp://user:s3cret@host", "https://"]
)
def test_a_malformed_base_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(EcallValidationError) as caught:
        EcallClient(url, "u", "p")
    assert caught.value.field == "base_url"
    assert "s3cret" not in str(caught.value)


def test_credentials_and_ids_are_checked_before_any_request(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    with pytest.raises(EcallValidationError, match="username"):
        EcallClient(sandbox.base_url, "user\ud800", "p")
    with pytest.raises(EcallValidationError, match="password"):
        EcallClient(sandbox.base_url, "user", "pass\x00word")
    with pytest.raises(EcallValidationError, match="message_id"):
        client.delete_inbound(None)  # type: ignore[arg-type]
    with pytest.raises(EcallValidationError, match="mobile_number"):
        client.get_next_inbound(mobile_number="not a number")
    assert sandbox.requests == []


def test_huge_digit_strings_and_lone_surrogates() -> None:
    with pytest.raises(EcallValidationError):
        SmsMessage(address=NUMBER, message="x", notification_level="9" * 5000)
    shortened = SmsMessage.fit_text("\ud800" + "x" * 2000)  # measured, not crashed
    assert len(shortened) < 2001
    with pytest.raises(EcallValidationError):  # and the message itself is refused
        SmsMessage(address=NUMBER, message=shortened)


def test_email_targets_may_start_with_a_digit_and_trunk_zeros_are_dropped() -> None:
    message = SmsMessage(
        address="+41 (0)79 111 22 33",
        message="x",
        notification_address="1ops@example.com",
        answer="+41 79 111 22 44",
    )
    assert message.recipients == ("+41791112233",)
    assert message.to_params()["NotificationAddress"] == "1ops@example.com"
    assert message.to_params()["Answer"] == "+41791112244"


def test_window_dates_name_their_own_field(client: EcallClient) -> None:
    with pytest.raises(EcallValidationError) as caught:
        client.get_status(start_date="nope", end_date="2026-01-01T00:00:00")
    assert caught.value.field == "start_date"


def test_ecall_local_timestamps_are_aware() -> None:
    stamp = read_timestamp("11.12.2015 10:37:00")
    assert stamp is not None
    assert stamp.utcoffset() is not None
    assert stamp.isoformat() == "2015-12-11T10:37:00+01:00"


def test_validation_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(EcallValidationError("job_id", "too long")))  # noqa: S301
    assert (error.field, error.rule, str(error)) == ("job_id", "too long", "job_id: too long")


@pytest.mark.parametrize(
    ("status", "code", "found"),
    [(200, 11910, 0), (400, 11501, 0), (400, 11912, 1), (200, 11912, 1), (200, 0, 0)],
)
def test_status_answers_with_a_result_body(
    client: EcallClient, sandbox: EcallSandbox, status: int, code: int, found: int
) -> None:
    sandbox.inject(endpoint="state", status=status, result_code=code)
    records = client.get_status(job_id="j-1")
    assert len(records) == found


def test_a_scheduled_job_counts_as_existing_for_safe_resends(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    sandbox.inject(endpoint="state", status=400, result_code=11912)
    result = client.send(SMS, skip_existing=True)
    assert result.skipped
    assert sandbox.messages == []
