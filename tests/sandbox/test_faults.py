"""Fault injection: delay, drop, status and code, raw bodies, accept-then-fail, targeting."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_ecall.sandbox import EcallSandbox
from tests.sandbox.conftest import Api, result_of, statuses_of


def test_delay_answers_late_and_records(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="sms", delay=0.3)

    started = time.monotonic()
    response = api.sms()
    elapsed = time.monotonic() - started

    assert elapsed >= 0.3
    assert result_of(response) == (0, "OK")
    assert len(sandbox.messages) == 1
    started = time.monotonic()
    api.sms()
    assert time.monotonic() - started < 0.3


def test_delay_past_the_client_timeout_still_records_the_job(
    api: Api, sandbox: EcallSandbox
) -> None:
    sandbox.inject(endpoint="sms", delay=0.5)

    with pytest.raises(requests.ReadTimeout):
        api.session.post(
            f"{sandbox.base_url}/Api/Sms",
            data={**api.auth(), "Address": "+41791112233", "Message": "x", "JobID": "slow"},
            timeout=0.1,
        )

    assert [m.job_id for m in sandbox.messages] == ["slow"]


def test_drop_closes_without_answer_and_records_nothing(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="sms", drop=True)

    with pytest.raises(requests.ConnectionError):
        api.sms(JobID="dropped")

    assert sandbox.messages == []
    [request] = sandbox.requests
    assert (request.endpoint, request.status, request.result_code) == ("sms", None, None)
    assert result_of(api.sms()) == (0, "OK")


def test_accept_then_drop_records_the_job(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="sms", drop=True, accept=True)

    with pytest.raises(requests.ConnectionError):
        api.sms(JobID="lost-answer")

    assert [m.job_id for m in sandbox.messages] == ["lost-answer"]
    assert statuses_of(api.call("Api/State", JobID="lost-answer"))[0]["StatusCode"] == "1"


def test_accept_then_500_records_the_job(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="sms", status=500, result_code=11700, accept=True)

    response = api.sms(JobID="accepted-500")

    assert (response.status_code, result_of(response)) == (500, (11700, "DataReadError"))
    assert [m.job_id for m in sandbox.messages] == ["accepted-500"]


def test_status_and_code_answer_a_result_without_recording(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="sms", status=503, result_code=11403, result_text="Disrupted")

    response = api.sms()

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert result_of(response) == (11403, "Disrupted")
    assert sandbox.messages == []
    assert (sandbox.requests[0].status, sandbox.requests[0].result_code) == (503, 11403)


def test_code_without_status_is_http_200(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(result_code=11301)

    response = api.sms()

    assert (response.status_code, result_of(response)[0]) == (200, 11301)


def test_status_alone_answers_an_empty_body(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="fax", status=500)

    response = api.call("Api/Fax", Address="+41447873071", Message="x")

    assert (response.status_code, response.content) == (500, b"")
    assert sandbox.messages == []


def test_raw_html_body(api: Api, sandbox: EcallSandbox) -> None:
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    sandbox.inject(endpoint="sms", status=502, body=page)

    response = api.sms()

    assert (response.status_code, response.text) == (502, page)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert sandbox.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"<Result><ResultCode>0</ResultCode",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<Result><ResultCode>&b;</ResultCode></Result>",
        b"x" * (3 << 20),
    ],
    ids=["malformed", "entity-expansion", "huge"],
)
def test_raw_bodies_are_sent_verbatim(api: Api, sandbox: EcallSandbox, body: bytes) -> None:
    sandbox.inject(body=body, content_type="application/octet-stream")

    response = api.sms()

    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(body))


def test_times_and_endpoint_targeting(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="state", status=503, result_code=11403, times=2)

    assert result_of(api.sms(JobID="a")) == (0, "OK")
    assert api.call("Api/State", JobID="a").status_code == 503
    assert api.call("Api/State", JobID="a").status_code == 503
    assert api.call("Api/State", JobID="a").status_code == 200


def test_cache_fault_covers_both_cache_endpoints(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(endpoint="cache", status=502, body="bad gateway", times=2)

    assert api.call("Api/Cache/GetNextMessage").status_code == 502
    assert api.call("Api/Cache/DeleteMessage", MessageID="x").status_code == 502
    assert api.call("Api/Cache/GetNextMessage").status_code == 200


def test_faults_apply_in_order(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(status=500, result_code=11700)
    sandbox.inject(status=401, result_code=11300)

    assert api.sms().status_code == 500
    assert api.sms().status_code == 401
    assert api.sms().status_code == 200


def test_clear_faults_and_reset(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.inject(status=500, times=5)
    sandbox.clear_faults()
    assert api.sms().status_code == 200

    sandbox.inject(status=500)
    sandbox.add_inbound(address_from="+41791112233", address_to="+41790000001", message="x")
    sandbox.reset()

    assert (sandbox.messages, sandbox.requests) == ([], [])
    assert api.sms().status_code == 200
    assert result_of(api.call("Api/Cache/GetNextMessage"))[0] == 11204


@pytest.mark.parametrize(
    "kwargs",
    [{"endpoint": "sms-ish"}, {"times": 0}, {"delay": -1.0}, {"status": 99}],
)
def test_invalid_faults_are_refused(sandbox: EcallSandbox, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        sandbox.inject(**kwargs)  # type: ignore[arg-type]
