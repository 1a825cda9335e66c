"""Api/State (by job and by window) and the inbound SMS cache."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from defusedxml import ElementTree

from airflow_provider_ecall.sandbox import EcallSandbox
from tests.sandbox.conftest import PHONE, Api, result_of, statuses_of


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_state_by_job(api: Api, method: str) -> None:
    api.sms(JobID="job-1", Address=f"{PHONE};+41791112244")
    api.sms(JobID="job-2")

    response = api.call("api/STATE", method, jobid="job-1")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert [s["Address"] for s in statuses_of(response)] == [PHONE, "+41791112244"]


def test_state_unknown_job_is_11910(api: Api) -> None:
    response = api.call("Api/State", JobID="never-sent")

    assert (response.status_code, result_of(response)) == (400, (11910, "Job not found"))


def test_state_without_job_or_window_is_11911(api: Api) -> None:
    response = api.call("Api/State")

    assert (response.status_code, result_of(response)[0]) == (400, 11911)


def test_state_invalid_window_date_is_11202(api: Api) -> None:
    response = api.call("Api/State", StartDate="yesterday")

    assert (response.status_code, result_of(response)[0]) == (400, 11202)


def test_state_by_window_on_receive_time(api: Api, sandbox: EcallSandbox) -> None:
    api.sms(JobID="in-window")
    now = datetime.now(timezone.utc)
    hour = timedelta(hours=1)

    inside = api.call(
        "Api/State", StartDate=(now - hour).isoformat(), EndDate=(now + hour).isoformat()
    )
    before = api.call("Api/State", EndDate=(now - hour).isoformat())
    after = api.call("Api/State", StartDate=(now + hour).isoformat())

    assert [s["JobID"] for s in statuses_of(inside)] == ["in-window"]
    assert statuses_of(before) == []
    assert statuses_of(after) == []


def test_state_window_without_offset_is_zurich_time(api: Api) -> None:
    api.sms(JobID="local")
    zurich_now = datetime.now(timezone.utc) + timedelta(hours=1)  # CET lower bound
    naive_start = (zurich_now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")

    found = statuses_of(api.call("Api/State", StartDate=naive_start))
    # read as UTC it would lie 30 minutes in the future and match nothing
    assert [s["JobID"] for s in found] == ["local"]


def test_state_window_over_the_limit_is_11701() -> None:
    with EcallSandbox(max_status_objects=2) as sandbox:
        api = Api(sandbox)
        api.sms(Address=f"{PHONE};+41791112244")
        ok = api.call("Api/State", StartDate="2000-01-01T00:00:00Z")
        assert len(statuses_of(ok)) == 2
        api.sms()
        over = api.call("Api/State", StartDate="2000-01-01T00:00:00Z")
        assert (over.status_code, result_of(over)[0]) == (400, 11701)


def test_state_answers_1000_objects_and_refuses_1001_as_ecall_does() -> None:
    """The default limit is eCall's: a window of 1,000 status objects is answered whole, one
    more is HTTP 400 with 11701; a JobID query is never refused (a job has at most 1,000)."""
    with EcallSandbox() as sandbox:
        api = Api(sandbox)
        api.sms(JobID="big", Address=";".join(f"+4179{n:07d}" for n in range(1000)))
        whole = api.call("Api/State", StartDate="2000-01-01T00:00:00Z")
        assert (whole.status_code, len(statuses_of(whole))) == (200, 1000)
        api.sms(JobID="one-more")
        over = api.call("Api/State", StartDate="2000-01-01T00:00:00Z")
        assert (over.status_code, result_of(over)[0]) == (400, 11701)
        assert len(statuses_of(api.call("Api/State", JobID="big"))) == 1000


def test_state_windows_follow_the_sandbox_clock() -> None:
    """A test spreads sends over hours with ``travel``: each is stamped by the moved clock,
    which windows select by."""
    with EcallSandbox() as sandbox:
        api = Api(sandbox)
        api.sms(JobID="now")
        later = sandbox.travel(3 * 3600)
        api.sms(JobID="later")
        since = (later - timedelta(minutes=1)).isoformat()
        assert [s["JobID"] for s in statuses_of(api.call("Api/State", StartDate=since))] == [
            "later"
        ]
        with pytest.raises(ValueError, match="forward"):
            sandbox.travel(-1)


def test_cache_empty(api: Api) -> None:
    response = api.call("Api/Cache/GetNextMessage")

    assert response.status_code == 200
    assert response.text == (
        "<IncomingSMS><Result><ResultCode>11204</ResultCode>"
        "<ResultText>Cache empty</ResultText></Result></IncomingSMS>"
    )


def _incoming(response: object) -> dict[str, str]:
    root = ElementTree.fromstring(response.content)  # type: ignore[attr-defined]
    sms = root.find("SMS")
    return {
        "MessageID": root.findtext("MessageID"),
        **{child.tag: child.text or "" for child in sms},
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cache_get_returns_the_oldest_without_removing(
    api: Api, sandbox: EcallSandbox, method: str
) -> None:
    stamp = datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc)
    first = sandbox.add_inbound(
        address_from=PHONE, address_to="+41790000001", message="YES <ok> & go", timestamp=stamp
    )
    sandbox.add_inbound(address_from=PHONE, address_to="+41790000002", message="second")

    response = api.call("api/cache/getnextmessage", method)
    again = api.call("Api/Cache/GetNextMessage", method)

    assert response.status_code == 200
    assert result_of(response) == (0, "OK")
    assert _incoming(response) == {
        "MessageID": first,
        "Message": "YES <ok> & go",
        "AddressTo": "+41790000001",
        "AddressFrom": PHONE,
        "TimeStamp": "2026-11-25T16:30:00+01:00",
    }
    assert _incoming(again)["MessageID"] == first


def test_cache_get_filters_by_mobile_number(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.add_inbound(address_from=PHONE, address_to="+41790000001", message="one")
    second = sandbox.add_inbound(address_from=PHONE, address_to="+41790000002", message="two")

    response = api.call("Api/Cache/GetNextMessage", MobileNumber="0041 79 000 00 02")
    nothing = api.call("Api/Cache/GetNextMessage", MobileNumber="+41790000003")

    assert _incoming(response)["MessageID"] == second
    assert result_of(nothing) == (11204, "Cache empty")


def test_cache_delete_then_next_then_empty(api: Api, sandbox: EcallSandbox) -> None:
    first = sandbox.add_inbound(address_from=PHONE, address_to="+41790000001", message="one")
    second = sandbox.add_inbound(address_from=PHONE, address_to="+41790000001", message="two")

    deleted = api.call("Api/Cache/DeleteMessage", MessageID=first)
    assert (deleted.status_code, result_of(deleted)) == (200, (0, "OK"))
    assert _incoming(api.call("Api/Cache/GetNextMessage"))["MessageID"] == second
    assert result_of(api.call("Api/Cache/DeleteMessage", messageid=second)) == (0, "OK")
    assert result_of(api.call("Api/Cache/GetNextMessage"))[0] == 11204


def test_cache_delete_unknown_and_missing_id(api: Api) -> None:
    unknown = api.call("Api/Cache/DeleteMessage", MessageID="nope")
    missing = api.call("Api/Cache/DeleteMessage")

    assert (unknown.status_code, result_of(unknown)[0]) == (400, 11501)
    assert (missing.status_code, result_of(missing)[0]) == (400, 11500)
