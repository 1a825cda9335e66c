"""Batching of long recipient lists, safe re-sends, Api/State and the inbound cache."""

from __future__ import annotations

import re

import pendulum
import pytest

from airflow_provider_ecall.client import (
    EcallClient,
    EcallCreditError,
    EcallRequestError,
    EcallServerError,
    EcallValidationError,
    FaxMessage,
    SmsMessage,
    VoiceMessage,
)
from airflow_provider_ecall.sandbox import EcallSandbox

NUMBERS = [f"+4179111{n:04d}" for n in range(7)]


def make_client(sandbox: EcallSandbox, **kwargs: object) -> EcallClient:
    return EcallClient(sandbox.base_url, sandbox.username, sandbox.password, **kwargs)  # type: ignore[arg-type]


def test_long_lists_go_out_in_batches(sandbox: EcallSandbox) -> None:
    client = make_client(sandbox, batch_size=3)
    result = client.send(SmsMessage(address=NUMBERS, message="hello", job_id="report"))

    assert [len(m.addresses) for m in sandbox.messages] == [3, 3, 1]
    assert [m.job_id for m in sandbox.messages] == ["report-1", "report-2", "report-3"]
    assert [a for m in sandbox.messages for a in m.addresses] == NUMBERS
    assert result.job_ids == ("report-1", "report-2", "report-3")
    assert result.recipient_count == 7
    assert [b.recipients for b in result.batches] == [3, 3, 1]
    assert all(b.result_code == 0 for b in result.batches)
    assert result.to_dict()["requests"] == 3


def test_voice_calls_one_number_per_request(client: EcallClient, sandbox: EcallSandbox) -> None:
    result = client.send(VoiceMessage(address=NUMBERS[:3], message="wake up", job_id="esc"))
    assert [m.addresses for m in sandbox.messages] == [(n,) for n in NUMBERS[:3]]
    assert result.job_ids == ("esc-1", "esc-2", "esc-3")


def test_job_id_too_long_for_a_batch_suffix_sends_nothing(sandbox: EcallSandbox) -> None:
    client = make_client(sandbox, batch_size=2)
    with pytest.raises(EcallValidationError) as caught:
        client.send(FaxMessage(address=NUMBERS, message="x", job_id="j" * 49))
    assert caught.value.field == "job_id"
    assert sandbox.requests == []


def test_a_failing_batch_reports_the_batches_before_it() -> None:
    with EcallSandbox(credit=4) as sandbox:  # the first batch of 3 fits, the second not
        client = make_client(sandbox, batch_size=3)
        with pytest.raises(EcallCreditError) as caught:
            client.send(SmsMessage(address=NUMBERS, message="x", job_id="b"))

        assert [batch.job_id for batch in caught.value.completed] == ["b-1"]
        assert [m.job_id for m in sandbox.messages] == ["b-1"]
        assert len([r for r in sandbox.requests if r.endpoint == "sms"]) == 2  # not the 3rd


def test_skip_existing_resends_only_what_ecall_lacks(sandbox: EcallSandbox) -> None:
    client = make_client(sandbox, batch_size=3)
    message = SmsMessage(address=NUMBERS, message="once", job_id="retry-safe")
    # a first run: batch 1 accepted; batch 2 accepted but its answer lost; batch 3 never sent
    client.send(SmsMessage(address=NUMBERS[:3], message="once", job_id="retry-safe-1"))
    sandbox.inject(endpoint="sms", accept=True, drop=True)
    with pytest.raises(EcallServerError):
        client.send(SmsMessage(address=NUMBERS[3:6], message="once", job_id="retry-safe-2"))
    assert len(sandbox.messages) == 2

    again = client.send(message, skip_existing=True)

    assert [m.job_id for m in sandbox.messages][-1] == "retry-safe-3"  # only batch 3 now
    assert len(sandbox.messages) == 3
    assert [b.skipped for b in again.batches] == [True, True, False]
    assert again.sent_count == 1
    assert again.batches[0].existing[0].job_id == "retry-safe-1"
    assert not again.skipped
    assert client.send(message, skip_existing=True).skipped
    assert len(sandbox.messages) == 3


def test_status_by_job(client: EcallClient, sandbox: EcallSandbox) -> None:
    client.send(SmsMessage(address=NUMBERS[:2], message="x", job_id="st-1"))
    sandbox.set_status("st-1", 8, "Delivered", address=NUMBERS[0])

    records = client.get_status(job_id="st-1")

    assert {r.address for r in records} == set(NUMBERS[:2])
    by_address = {r.address: r for r in records}
    assert by_address[NUMBERS[0]].status_code == 8
    assert by_address[NUMBERS[0]].outcome == "delivered"
    assert by_address[NUMBERS[1]].status_code == 1
    assert by_address[NUMBERS[1]].outcome == "pending"
    assert all(r.job_id == "st-1" and r.timestamp is not None for r in records)


def test_status_of_an_unknown_job_is_empty(client: EcallClient, sandbox: EcallSandbox) -> None:
    assert client.get_status(job_id="never-sent") == ()
    assert sandbox.messages == []


def test_status_window_split_when_ecall_finds_it_too_large() -> None:
    """Halves on whole seconds: eCall's dates have no fractions, and a window of one second
    that still holds too many is eCall's refusal, not a split into fractions of it."""
    with EcallSandbox(max_status_objects=2) as sandbox:
        client = make_client(sandbox)
        start = pendulum.instance(sandbox.now()).subtract(seconds=1)
        for n in range(5):
            client.send(SmsMessage(address=NUMBERS[n], message="x", job_id=f"w-{n}"))
            sandbox.travel(1.3)
        end = pendulum.instance(sandbox.now()).add(seconds=2)

        records = client.get_status(start_date=start, end_date=end)

        assert sorted(r.job_id or "" for r in records) == [f"w-{n}" for n in range(5)]
        state_calls = [r for r in sandbox.requests if r.endpoint == "state"]
        assert any(r.result_code == 11701 for r in state_calls)
        dates = [r.params[name] for r in state_calls for name in ("StartDate", "EndDate")]
        assert len(dates) > 2
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", d) for d in dates)


def test_one_second_with_too_many_statuses_is_refused_not_split() -> None:
    with EcallSandbox(max_status_objects=2) as sandbox:
        client = make_client(sandbox)
        second = pendulum.instance(sandbox.now()).set(microsecond=0).add(seconds=1)
        sandbox.travel((second - sandbox.now()).total_seconds() + 0.1)
        client.send(SmsMessage(address=NUMBERS[:3], message="x", job_id="three"))

        with pytest.raises(EcallRequestError) as caught:
            client.get_status(start_date=second, end_date=second.add(seconds=1))

        assert caught.value.result_code == 11701
        assert len([r for r in sandbox.requests if r.endpoint == "state"]) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"start_date": "2026-01-01T00:00:00"},
        {"job_id": "x", "start_date": "2026-01-01", "end_date": "2026-01-02"},
        {"start_date": "2026-01-02T00:00:00", "end_date": "2026-01-01T00:00:00"},
        {"job_id": "bad id"},
    ],
)
def test_status_arguments_are_checked_locally(
    client: EcallClient, sandbox: EcallSandbox, kwargs: dict[str, str]
) -> None:
    with pytest.raises(EcallValidationError):
        client.get_status(**kwargs)
    assert sandbox.requests == []


def test_inbound_cache_loop(client: EcallClient, sandbox: EcallSandbox) -> None:
    assert client.get_next_inbound() is None
    first = sandbox.add_inbound(address_from="+41791112233", address_to="+41790000000", message="A")
    sandbox.add_inbound(address_from="+41791112244", address_to="+41790000001", message="B")

    got = client.get_next_inbound()
    assert got is not None
    assert (got.message_id, got.message, got.address_from) == (first, "A", "+41791112233")
    assert client.get_next_inbound() == got  # not removed until deleted
    client.delete_inbound(got.message_id)

    rest = client.get_next_inbound(mobile_number="+41790000001")
    assert rest is not None
    assert rest.message == "B"
    client.delete_inbound(rest.message_id)
    assert client.get_next_inbound() is None
