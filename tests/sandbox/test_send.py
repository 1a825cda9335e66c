"""Accepted sends: every kind by GET and POST, case-insensitive names, records, statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage
from tests.sandbox.conftest import PHONE, Api, result_of, statuses_of

# The first status of each kind; later ones: tests/sandbox/test_delivery.py.
KINDS = [("sms", "Api/Sms", "1", "Transmitted"), ("fax", "Api/Fax", "101", "Transmitting"),
         ("voice", "Api/Voice", "30", "Sending")]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("kind", "path", "code", "text"), KINDS)
def test_accepts_each_kind_by_get_and_post(
    api: Api, sandbox: EcallSandbox, method: str, kind: str, path: str, code: str, text: str
) -> None:
    response = api.call(path, method, Address=PHONE, Message="Hello", JobID=f"job-{kind}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert result_of(response) == (0, "OK")
    [message] = sandbox.messages_of(kind)
    assert (message.addresses, message.message, message.job_id) == (
        (PHONE,),
        "Hello",
        f"job-{kind}",
    )
    assert message.method == method
    state = api.call("Api/State", JobID=f"job-{kind}")
    assert [(s["StatusCode"], s["StatusText"]) for s in statuses_of(state)] == [(code, text)]


@pytest.mark.parametrize("path", ["api/sms", "/API/SMS/", "Api/sMs/", "api/Sms"])
def test_path_is_case_insensitive_and_tolerates_slashes(
    api: Api, sandbox: EcallSandbox, path: str
) -> None:
    response = api.call(path, Address=PHONE, Message="x")

    assert result_of(response) == (0, "OK")
    assert len(sandbox.messages) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_parameter_names_are_case_insensitive_and_stored_canonically(
    api: Api, sandbox: EcallSandbox, method: str
) -> None:
    response = api.call(
        "Api/Sms",
        method,
        auth=False,
        username=sandbox.username,
        PASSWORD=sandbox.password,
        address=PHONE,
        MESSAGE="Hi",
        jobid="abc",
        msgtype="flash",
        callback="Ops",
    )

    assert result_of(response) == (0, "OK")
    [message] = sandbox.messages
    assert message.job_id == "abc"
    assert message.params == {
        "Address": PHONE,
        "Message": "Hi",
        "JobID": "abc",
        "MsgType": "flash",
        "CallBack": "Ops",
    }


def test_message_record_excludes_credentials_and_keeps_everything_else(
    api: Api, sandbox: EcallSandbox
) -> None:
    before = datetime.now(timezone.utc)
    api.sms(Address=f"{PHONE}; 0041 79 111 22 44 ;", Message="Line 1\nZeile 2 ü", NoLog="1")

    [message] = sandbox.messages
    assert isinstance(message, SandboxMessage)
    assert message.addresses == (PHONE, "0041 79 111 22 44")
    assert message.message == "Line 1\nZeile 2 ü"
    assert message.job_id is None
    assert "UserName" not in message.params
    assert "Password" not in message.params
    assert message.params["NoLog"] == "1"
    assert before <= message.received_at <= datetime.now(timezone.utc)
    with pytest.raises(AttributeError):
        message.kind = "fax"  # type: ignore[misc]


def test_address_book_names_are_accepted(api: Api, sandbox: EcallSandbox) -> None:
    response = api.sms(Address="On-Call Team;+41 79 111 22 33")

    assert result_of(response) == (0, "OK")
    assert sandbox.messages[0].addresses == ("On-Call Team", "+41 79 111 22 33")


def test_one_status_per_recipient(api: Api) -> None:
    api.sms(Address=f"{PHONE};+41791112244", JobID="multi")

    statuses = statuses_of(api.call("Api/State", JobID="multi"))
    assert [s["Address"] for s in statuses] == [PHONE, "+41791112244"]
    assert {s["JobID"] for s in statuses} == {"multi"}


def test_future_send_date_is_scheduled(api: Api) -> None:
    api.sms(JobID="later", SendDate="2099-06-15T14:30:00+02:00")
    api.sms(JobID="past", SendDate="2001-06-15T14:30:00")

    [later] = statuses_of(api.call("Api/State", JobID="later"))
    [past] = statuses_of(api.call("Api/State", JobID="past"))
    assert (later["StatusCode"], later["StatusText"]) == ("3", "Scheduled")
    assert later["TimeStamp"] == "2099-06-15T14:30:00+02:00"
    assert past["StatusCode"] == "1"


def test_without_job_id_an_internal_32_hex_id_is_assigned(api: Api, sandbox: EcallSandbox) -> None:
    api.sms()

    [status] = statuses_of(api.call("Api/State", StartDate="2000-01-01T00:00:00Z"))
    assert len(status["JobID"]) == 32
    int(status["JobID"], 16)
    assert sandbox.messages[0].job_id is None


def test_status_timestamp_has_an_explicit_offset(api: Api) -> None:
    api.sms(JobID="ts")

    [status] = statuses_of(api.call("Api/State", JobID="ts"))
    stamp = datetime.fromisoformat(status["TimeStamp"])
    assert stamp.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert abs(stamp - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_set_status_changes_what_state_reports(api: Api, sandbox: EcallSandbox) -> None:
    api.sms(Address=f"{PHONE};+41791112244", JobID="dlv")

    sandbox.set_status("dlv", 8, "Delivered", address=PHONE)
    statuses = statuses_of(api.call("Api/State", JobID="dlv"))
    assert [(s["StatusCode"], s["StatusText"]) for s in statuses] == [
        ("8", "Delivered"),
        ("1", "Transmitted"),
    ]
    sandbox.set_status("dlv", 2, "Error")
    assert {s["StatusCode"] for s in statuses_of(api.call("Api/State", JobID="dlv"))} == {"2"}
    with pytest.raises(KeyError):
        sandbox.set_status("nope", 8, "Delivered")


def test_reused_job_id_reports_both_sends(api: Api, sandbox: EcallSandbox) -> None:
    api.sms(JobID="twice")
    api.sms(JobID="twice")

    assert len(sandbox.messages) == 2
    assert len(statuses_of(api.call("Api/State", JobID="twice"))) == 2
