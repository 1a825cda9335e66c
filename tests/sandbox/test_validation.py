"""Server-side validation: each rule answers its HTTP status and eCall result code."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.validation import Failure, check_send
from tests.sandbox.conftest import PHONE, Api, result_of

GOOD: dict[str, str] = {"Address": PHONE, "Message": "Hello"}

CASES: list[tuple[str, str, dict[str, Any], int, int]] = [
    ("address missing", "Api/Sms", {"Address": None}, 400, 11102),
    ("address empty", "Api/Fax", {"Address": " ; "}, 400, 11102),
    ("address letters", "Api/Sms", {"Address": "+41abc"}, 400, 11100),
    ("address plain digits", "Api/Voice", {"Address": "0791112233"}, 400, 11100),
    ("second address invalid", "Api/Sms", {"Address": f"{PHONE};12345"}, 400, 11100),
    ("address only plus", "Api/Sms", {"Address": "+"}, 400, 11100),
    ("voice takes one number", "Api/Voice", {"Address": f"{PHONE};+41791112244"}, 400, 11104),
    ("voice takes no address-book name", "Api/Voice", {"Address": "Oncall Team"}, 400, 11100),
    ("message missing", "Api/Sms", {"Message": None}, 400, 11200),
    ("message blank", "Api/Voice", {"Message": "   "}, 400, 11200),
    ("sms gsm too long", "Api/Sms", {"Message": "a" * 1531}, 400, 11204),
    ("sms ucs2 too long", "Api/Sms", {"Message": "ü€ж" * 524}, 400, 11204),
    ("sms gsm escapes too long", "Api/Sms", {"Message": "€" * 766}, 400, 11204),
    ("send date garbage", "Api/Sms", {"SendDate": "tomorrow"}, 400, 11202),
    ("send date invalid month", "Api/Fax", {"SendDate": "2026-13-01T10:00:00"}, 400, 11202),
    ("send date time only", "Api/Voice", {"SendDate": "12:00"}, 400, 11202),
    ("job id 51", "Api/Sms", {"JobID": "j" * 51}, 400, 11000),
    ("notification level 4", "Api/Sms", {"NotificationLevel": "4"}, 400, 11000),
    ("notification level text", "Api/Sms", {"NotificationLevel": "one"}, 400, 11000),
    ("msg type", "Api/Sms", {"MsgType": "Loud"}, 400, 11000),
    ("no log 2", "Api/Sms", {"NoLog": "2"}, 400, 11000),
    ("language", "Api/Voice", {"Language": "ES"}, 400, 11000),
    ("retries 10", "Api/Fax", {"NumberOfRetries": "10"}, 400, 11000),
    ("retry interval 100", "Api/Fax", {"RetryIntervalInMinutes": "100"}, 400, 11000),
    ("retry interval negative", "Api/Fax", {"RetryIntervalInMinutes": "-1"}, 400, 11000),
    ("header id 21", "Api/Fax", {"HeaderId": "h" * 21}, 400, 11000),
    ("header info 51", "Api/Fax", {"HeaderInfo": "h" * 51}, 400, 11000),
    ("calling number 17 digits", "Api/Fax", {"CallingNumber": "+" + "1" * 17}, 400, 11000),
    ("notification address", "Api/Sms", {"NotificationAddress": "not an address"}, 400, 11101),
    ("notification ftp", "Api/Sms", {"NotificationAddress": f"{PHONE};ftp://x.ch"}, 400, 11101),
    ("callback 17 digits", "Api/Sms", {"CallBack": "1" * 17}, 400, 11800),
    ("callback 12 letters", "Api/Sms", {"CallBack": "A" * 12}, 400, 11800),
    ("callback no letter", "Api/Sms", {"CallBack": "+41-79"}, 400, 11800),
    ("callback non ascii", "Api/Sms", {"CallBack": "Zürich"}, 400, 11800),
]


def _params(overrides: dict[str, Any]) -> dict[str, str]:
    merged = {**GOOD, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


@pytest.mark.parametrize(
    ("path", "overrides", "status", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_answers_its_status_and_code(
    api: Api, sandbox: EcallSandbox, path: str, overrides: dict[str, Any], status: int, code: int
) -> None:
    response = api.call(path, **_params(overrides))

    assert (response.status_code, result_of(response)[0]) == (status, code)
    assert sandbox.messages == []
    assert sandbox.requests[-1].status == status
    assert sandbox.requests[-1].result_code == code


VALID: list[tuple[str, str, dict[str, str]]] = [
    ("longest gsm sms", "Api/Sms", {"Message": "a" * 1530}),
    ("longest ucs2 sms", "Api/Sms", {"Message": "ж" * 1570}),
    ("long fax text", "Api/Fax", {"Message": "a" * 5000}),
    ("job id 50", "Api/Sms", {"JobID": "j" * 50}),
    ("naive send date", "Api/Sms", {"SendDate": "2026-06-15T14:30:00"}),
    ("zulu send date", "Api/Sms", {"SendDate": "2026-06-15T14:30:00Z"}),
    ("all sms extras", "Api/Sms", {"NotificationLevel": "3", "MsgType": "FLASH", "NoLog": "0",
     "NotificationAddress": f"{PHONE}; ops@example.ch;https://hooks.example.ch/x?a=1"}),
    ("callback 16 digits", "Api/Sms", {"CallBack": "+" + "4" * 16}),
    ("callback 11 chars", "Api/Sms", {"CallBack": "Ops Alert 1"}),
    ("callback ignored with answer", "Api/Sms", {"CallBack": "!" * 30, "Answer": PHONE}),
    ("all fax extras", "Api/Fax", {"HeaderId": "h" * 20, "HeaderInfo": "i" * 50,
     "NumberOfRetries": "9", "RetryIntervalInMinutes": "99", "CallingNumber": "+41431234576",
     "Subject": "Report"}),
    ("voice extras", "Api/Voice", {"Language": "en", "FromText": "John Smith"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "overrides"), [case[1:] for case in VALID], ids=[case[0] for case in VALID]
)
def test_valid_requests_pass(
    api: Api, sandbox: EcallSandbox, path: str, overrides: dict[str, str]
) -> None:
    response = api.call(path, **_params(overrides))

    assert (response.status_code, result_of(response)) == (200, (0, "OK"))
    assert len(sandbox.messages) == 1


def test_too_many_addresses() -> None:
    with EcallSandbox(max_addresses=3) as sandbox:
        api = Api(sandbox)
        three = ";".join(f"+4179111220{i}" for i in range(3))
        assert result_of(api.sms(Address=three)) == (0, "OK")
        response = api.sms(Address=three + ";+41791112209")
        assert (response.status_code, result_of(response)[0]) == (400, 11104)
        assert len(sandbox.messages) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        (None, None, 11300),
        ("someone-else", "sandbox-password", 11300),
        ("sandbox-user", None, 11001),
        ("sandbox-user", "wrong", 11001),
    ],
)
def test_auth_failures_are_401(
    api: Api,
    sandbox: EcallSandbox,
    method: str,
    username: str | None,
    password: str | None,
    code: int,
) -> None:
    creds = {k: v for k, v in (("UserName", username), ("Password", password)) if v is not None}
    # an invalid address too: authentication is checked first
    response = api.call("Api/Sms", method, auth=False, Address="bad", Message="x", **creds)

    assert (response.status_code, result_of(response)[0]) == (401, code)
    assert sandbox.messages == []


@pytest.mark.parametrize(
    "path", ["Api/State", "Api/Cache/GetNextMessage", "Api/Cache/DeleteMessage"]
)
def test_other_endpoints_need_auth_too(api: Api, path: str) -> None:
    response = api.call(path, auth=False, UserName="sandbox-user", Password="nope", JobID="x")

    assert (response.status_code, result_of(response)[0]) == (401, 11001)


def test_credit_is_one_unit_per_recipient() -> None:
    with EcallSandbox(credit=3) as sandbox:
        api = Api(sandbox)
        assert result_of(api.sms(Address=f"{PHONE};+41791112244")) == (0, "OK")
        assert sandbox.credit == 1
        refused = api.sms(Address=f"{PHONE};+41791112244")
        assert (refused.status_code, result_of(refused)[0]) == (403, 11301)
        assert result_of(api.call("Api/Voice", Address=PHONE, Message="x")) == (0, "OK")
        last = api.sms()
        assert (last.status_code, result_of(last)[0]) == (403, 11301)
        assert sandbox.credit == 0
        assert [m.kind for m in sandbox.messages] == ["sms", "voice"]


def test_check_send_is_usable_directly() -> None:
    assert check_send("sms", dict(GOOD), max_addresses=10) is None
    failure = check_send("sms", {"Address": PHONE}, max_addresses=10)
    assert failure == Failure(400, 11200, "No message text")
    assert failure == (400, 11200, "No message text")


def test_failure_texts_do_not_echo_addresses(api: Api) -> None:
    response = api.sms(Address=f"{PHONE};+41-secret-99")

    assert "secret" not in response.text
    assert PHONE not in response.text
    assert result_of(response)[1] == "Invalid recipient address (entry 2)"
