"""Inputs the property tests found, pinned as examples.

Each was a real hole, now fixed; these examples keep it fixed: look-alike digits, a
trailing newline slipping past ``$``, superscript digits reaching ``int()``, UTC offsets
with seconds or beyond ±14:00, lone surrogates, unbounded fax/voice texts, and a sandbox
that counted the ``00`` prefix as digits.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_ecall.client import (
    EcallClient,
    EcallValidationError,
    FaxMessage,
    SmsMessage,
    VoiceMessage,
)
from airflow_provider_ecall.sandbox import EcallSandbox

NUMBER = "+41791112233"


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (SmsMessage, {"address": "+417٣91112233"}),  # Arabic-Indic digit: \d matched it
        (SmsMessage, {"address": "+41７91112233"}),  # full-width digit
        (VoiceMessage, {"address": "+10000٠"}),
        (SmsMessage, {"notification_address": "+417٣91112233"}),
        (FaxMessage, {"calling_number": "+417٣91112233"}),
        (SmsMessage, {"callback": "12٣"}),
        (SmsMessage, {"callback": "0\n"}),  # `$` matched before the final newline
        (SmsMessage, {"job_id": "job-1\n"}),
        (SmsMessage, {"notification_level": "²"}),  # isdigit() but int() raised ValueError
        (FaxMessage, {"number_of_retries": "³"}),
        (FaxMessage, {"retry_interval_in_minutes": "٣"}),
        (SmsMessage, {"answer": "+\x85100000"}),  # NEL was stripped as number formatting
        (SmsMessage, {"address": "+41\xa0791112233"}),  # so was a no-break space
    ],
)
def test_found_inputs_are_refused_locally(
    sandbox: EcallSandbox, client: EcallClient, kind: type[SmsMessage], values: dict[str, object]
) -> None:
    with pytest.raises(EcallValidationError) as caught:
        client.send(kind(**{"address": NUMBER, "message": "x", **values}))  # type: ignore[arg-type]
    assert caught.value.field in values
    assert sandbox.requests == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1900, 1, 1, 12, tzinfo=timezone(timedelta(minutes=-16, seconds=-8))),
        datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=1, seconds=30))),
    ],
)
def test_send_date_with_second_offset_arrives(
    sandbox: EcallSandbox, client: EcallClient, moment: datetime
) -> None:
    message = SmsMessage(address=NUMBER, message="x", send_date=moment)
    client.send(message)
    sent = sandbox.messages[0].params["SendDate"]
    assert sent == message.to_params()["SendDate"]
    assert sent.endswith("+00:00")  # ISO 8601 has no seconds in offsets: sent as UTC
    assert datetime.fromisoformat(sent) == moment.replace(microsecond=0)


def test_send_date_with_absurd_offset_is_refused_locally(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    with pytest.raises(EcallValidationError):
        client.send(SmsMessage(address=NUMBER, message="x", send_date="0:0-00100:0"))
    assert sandbox.requests == []


@pytest.mark.parametrize("kind", [SmsMessage, FaxMessage, VoiceMessage])
def test_lone_surrogate_is_refused_locally(
    sandbox: EcallSandbox, client: EcallClient, kind: type[SmsMessage]
) -> None:
    with pytest.raises(EcallValidationError):
        client.send(kind(address=NUMBER, message="broken \ud800 text"))
    assert sandbox.requests == []


def test_fax_text_over_the_guard_is_refused_locally(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    with pytest.raises(EcallValidationError) as caught:
        FaxMessage(address=NUMBER, message="Report line.\n" * 90_000)
    assert caught.value.field == "message"
    client.send(FaxMessage(address=NUMBER, message="€" * 50_000))  # the guard fits the wire
    assert len(sandbox.messages) == 1


def test_zero_zero_calling_number_counts_like_plus(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    client.send(FaxMessage(address=NUMBER, message="x", calling_number="+1000000000000000"))
    client.send(FaxMessage(address=NUMBER, message="x", calling_number="001000000000000000"))
    assert len(sandbox.messages) == 2


@pytest.mark.parametrize("value", ["14::30", "2026-06-15T14::30", "0:0-00100:0"])
def test_malformed_times_are_refused_locally(
    sandbox: EcallSandbox, client: EcallClient, value: str
) -> None:
    with pytest.raises(EcallValidationError) as caught:
        client.send(VoiceMessage(address=NUMBER, message="x", send_date=value))
    assert caught.value.field == "send_date"
    assert sandbox.requests == []
