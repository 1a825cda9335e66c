"""The password never surfaces, and phone numbers reach logs only masked.

Every outcome of a fault matrix — answers of every error class, timeouts, dropped
connections, unreadable and oversize bodies, redirects, a batch failing half-way, status and
inbound queries, and the Airflow hook — is run with every logger at DEBUG (urllib3
included). Then the log text, each record's message and arguments, the exception's text,
repr, body, result text and completed batches, and ``SendResult.to_dict()`` are searched.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator

import pytest

from airflow_provider_ecall.client import (
    EcallClient,
    EcallError,
    SendResult,
    SmsMessage,
    VoiceMessage,
)
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.sandbox import EcallSandbox

NUMBERS = [f"+4179{n:07d}" for n in range(1_112_233, 1_112_233 + 250)]
HTML_502 = "<html><body><h1>502 Bad Gateway</h1></body></html>"
FAULTS: list[dict[str, object]] = [
    {},  # success
    {"status": 400, "result_code": 11100},
    {"status": 400, "result_code": 11800},
    {"status": 401, "result_code": 11300},
    {"status": 403, "result_code": 11301},
    {"status": 400, "result_code": 11403},
    {"status": 500, "result_code": 11700},
    {"status": 503},
    {"status": 502, "body": HTML_502},
    {"status": 200, "result_code": 11100},
    {"status": 200, "body": "<Result><ResultCode>0</Result"},
    {"status": 200, "body": ""},
    {"status": 200, "body": b"<Result>" + b"x" * 300_000},
    {"status": 302, "body": "moved"},
    {"delay": 1.5},
    {"drop": True},
    {"drop": True, "accept": True},
]


@pytest.fixture
def secret_client(sandbox: EcallSandbox) -> Iterator[EcallClient]:
    with EcallClient(
        sandbox.base_url, sandbox.username, sandbox.password, timeout=(2.0, 1.0), batch_size=100
    ) as ecall:
        yield ecall


def outcome(call: Callable[[], object]) -> tuple[object, EcallError | None]:
    """Run ``call``; return its result or the eCall error it raised."""
    try:
        return call(), None
    except EcallError as exc:
        return None, exc


def artefacts(
    caplog: pytest.LogCaptureFixture, result: object, error: EcallError | None
) -> list[str]:
    """Every text a user or an operator could see after the call."""
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    if isinstance(result, SendResult):
        texts += [json.dumps(result.to_dict()), repr(result)]
    if error is not None:
        body = error.body or b""
        texts += [str(error), repr(error), error.result_text or "", repr(error.completed)]
        texts += [body.decode("utf-8", "replace"), repr(vars(error)), with_locals(error)]
    return texts


def with_locals(error: BaseException) -> str:
    """What a traceback renderer that prints each frame's locals shows (Airflow 3.0's
    ``dags test`` does): the form the client posted is among them."""
    shown = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(shown.format())


def assert_clean(texts: list[str], password: str, log_text: str, numbers: list[str]) -> None:
    for text in texts:
        assert password not in text
    for number in numbers:
        assert number not in log_text, f"{number} in the log in full"


@pytest.mark.parametrize("fault", FAULTS, ids=[json.dumps(f, default=str)[:40] for f in FAULTS])
def test_single_send_leaks_nothing(
    secret_client: EcallClient,
    sandbox: EcallSandbox,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, object],
) -> None:
    caplog.set_level(logging.DEBUG)
    if fault:
        sandbox.inject(endpoint="sms", **fault)  # type: ignore[arg-type]
    message = SmsMessage(address=NUMBERS[:3], message="Disk full", job_id="leak-1")
    result, error = outcome(lambda: secret_client.send(message))

    assert (error is None) == (not fault)
    texts = artefacts(caplog, result, error)
    assert_clean(texts, sandbox.password, caplog.text, NUMBERS[:3])
    if error is not None:
        assert_clean([], sandbox.password, with_locals(error), NUMBERS[:3])
    assert mask_address(NUMBERS[0]) in caplog.text  # the send was logged, masked
    assert any(record.name.startswith("urllib3") for record in caplog.records)


def test_batch_failing_half_way_leaks_nothing(
    secret_client: EcallClient, sandbox: EcallSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.inject(endpoint="sms", delay=0.0)  # the first batch passes untouched
    sandbox.inject(endpoint="sms", status=500, result_code=11700)  # the second fails
    message = SmsMessage(address=NUMBERS, message="Disk full", job_id="leak-batch")
    result, error = outcome(lambda: secret_client.send(message))

    assert error is not None
    assert len(error.completed) == 1
    assert_clean(artefacts(caplog, result, error), sandbox.password, caplog.text, NUMBERS)


@pytest.mark.parametrize("endpoint", ["state", "cache"])
@pytest.mark.parametrize(
    "fault", [{"status": 500}, {"drop": True}, {"status": 401, "result_code": 11001}]
)
def test_queries_leak_nothing(
    secret_client: EcallClient,
    sandbox: EcallSandbox,
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    fault: dict[str, object],
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.inject(endpoint=endpoint, **fault)  # type: ignore[arg-type]
    query: Callable[[], object] = (
        (lambda: secret_client.get_status(job_id="leak-1"))
        if endpoint == "state"
        else (lambda: secret_client.get_next_inbound(mobile_number=NUMBERS[0]))
    )
    result, error = outcome(query)
    assert error is not None
    assert_clean(artefacts(caplog, result, error), sandbox.password, caplog.text, NUMBERS[:1])


def test_voice_with_several_numbers_logs_each_masked(
    secret_client: EcallClient, sandbox: EcallSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result, error = outcome(
        lambda: secret_client.send(VoiceMessage(address=NUMBERS[:3], message="Disk full"))
    )
    assert error is None
    assert_clean(artefacts(caplog, result, error), sandbox.password, caplog.text, NUMBERS[:3])
    for number in NUMBERS[:3]:
        assert mask_address(number) in caplog.text


@pytest.mark.parametrize("fault", [{}, {"status": 500}, {"status": 403, "result_code": 11301}])
def test_hook_leaks_nothing(
    ecall_sandbox_connection: EcallSandbox,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, object],
) -> None:
    from airflow_provider_ecall.hooks.ecall import EcallHook

    sandbox = ecall_sandbox_connection
    caplog.set_level(logging.DEBUG)
    if fault:
        sandbox.inject(endpoint="sms", **fault)  # type: ignore[arg-type]
    hook = EcallHook()
    result, error = outcome(lambda: hook.send_sms(address=NUMBERS[:2], message="Disk full"))
    status_ok, status_text = hook.test_connection()

    assert (error is None) == (not fault)
    texts = [*artefacts(caplog, result, error), status_text, repr(hook), repr(hook.settings)]
    assert_clean(texts, sandbox.password, caplog.text, NUMBERS[:2])
    assert status_ok
