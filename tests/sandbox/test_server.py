"""The HTTP server: paths, limits, keep-alive, request log, journal, concurrency, lifecycle."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.sandbox import EcallSandbox, SandboxMessage, SandboxRequest
from tests.sandbox.conftest import PHONE, Api, result_of


def test_unknown_path_is_404_text(api: Api, sandbox: EcallSandbox) -> None:
    response = api.call("Api/Sms/extra", Address=PHONE, Message="x")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert sandbox.messages == []
    assert sandbox.requests[0].endpoint == "unknown"


def test_body_over_one_mib_is_413(api: Api, sandbox: EcallSandbox) -> None:
    response = api.sms(Message="a" * (1 << 20))

    assert response.status_code == 413
    assert sandbox.messages == []
    assert result_of(api.sms()) == (0, "OK")


def test_unsupported_method_is_refused(sandbox: EcallSandbox) -> None:
    response = requests.put(f"{sandbox.base_url}/Api/Sms", data={"a": "b"}, timeout=5)

    assert response.status_code == 501
    assert sandbox.messages == []


def test_query_string_and_form_body_merge(sandbox: EcallSandbox) -> None:
    response = requests.post(
        f"{sandbox.base_url}/Api/Sms?UserName={sandbox.username}&JobID=from-query",
        data={"Password": sandbox.password, "Address": PHONE, "Message": "Grüezi"},
        timeout=5,
    )

    assert result_of(response) == (0, "OK")
    assert sandbox.messages[0].job_id == "from-query"
    assert sandbox.messages[0].message == "Grüezi"


def test_percent_encoded_plus_is_kept(sandbox: EcallSandbox) -> None:
    url = (
        f"{sandbox.base_url}/Api/Sms?UserName={sandbox.username}&Password={sandbox.password}"
        "&Address=%2B41791112233&Message=Test%20message"
    )

    assert result_of(requests.get(url, timeout=5)) == (0, "OK")
    assert sandbox.messages[0].addresses == (PHONE,)
    assert sandbox.messages[0].message == "Test message"


def test_keep_alive_serves_several_requests_on_one_connection(sandbox: EcallSandbox) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    body = (
        f"UserName={sandbox.username}&Password={sandbox.password}&Address=%2B41791112233&Message=x"
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        for _ in range(3):
            connection.request("POST", "/Api/Sms", body=body, headers=headers)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Length") == str(len(response.read()))
            assert not response.will_close
        local_port = connection.sock.getsockname()[1]
        connection.request("POST", "/Api/Sms", body=body, headers=headers)
        connection.getresponse().read()
        assert connection.sock.getsockname()[1] == local_port
    finally:
        connection.close()
    assert len(sandbox.messages) == 4


def test_request_log_never_holds_the_password(api: Api, sandbox: EcallSandbox) -> None:
    api.sms(JobID="a")
    api.call("Api/State", "GET", JobID="a")
    api.call("Api/Sms", auth=False, UserName="x", Password="guess")

    requests_seen = sandbox.requests
    assert all(isinstance(r, SandboxRequest) for r in requests_seen)
    assert [(r.endpoint, r.method, r.status, r.result_code) for r in requests_seen] == [
        ("sms", "POST", 200, 0),
        ("state", "GET", 200, None),
        ("sms", "POST", 401, 11300),
    ]
    assert all("Password" not in r.params for r in requests_seen)
    assert requests_seen[0].params["UserName"] == sandbox.username


def test_copies_are_returned(api: Api, sandbox: EcallSandbox) -> None:
    api.sms()
    sandbox.messages.clear()
    sandbox.requests.clear()

    assert len(sandbox.messages) == 1
    assert len(sandbox.requests) == 1


def test_journal_has_one_line_per_message_and_no_password(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    with EcallSandbox(journal=journal, password="s3cr3t-pw") as sandbox:
        api = Api(sandbox)
        api.sms(JobID="j1", Message="Hello ✓")
        api.call("Api/Fax", Address="+41447873071", Message="Report")
        api.sms(Address="+41abc")  # refused: no line

    text = journal.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert "s3cr3t-pw" not in text
    assert "Password" not in text
    assert [(line["kind"], line["client_job_id"]) for line in lines] == [
        ("sms", "j1"),
        ("fax", None),
    ]
    assert lines[0]["message"] == "Hello ✓"
    assert lines[0]["addresses"] == [PHONE]
    assert len(lines[1]["job_id"]) == 32


def test_concurrent_sends_from_16_threads_are_all_recorded(sandbox: EcallSandbox) -> None:
    per_thread = 25
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        api = Api(sandbox)
        try:
            for n in range(per_thread):
                response = api.sms(JobID=f"t{index}-{n}")
                assert result_of(response) == (0, "OK")
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)
        finally:
            api.session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    job_ids = {m.job_id for m in sandbox.messages}
    assert len(job_ids) == 16 * per_thread
    assert len(sandbox.requests) == 16 * per_thread


def test_echo_is_called_and_its_failure_does_not_break_the_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[SandboxMessage] = []

    def echo(message: SandboxMessage) -> None:
        seen.append(message)
        raise RuntimeError("echo broke")

    with EcallSandbox(echo=echo) as sandbox:
        response = Api(sandbox).sms(JobID="echoed")

    assert result_of(response) == (0, "OK")
    assert [m.job_id for m in seen] == ["echoed"]
    assert "echo broke" in capsys.readouterr().err


def test_lifecycle() -> None:
    sandbox = EcallSandbox(password="hidden-pw")
    with pytest.raises(RuntimeError):
        _ = sandbox.port
    assert sandbox.start() is sandbox
    try:
        assert sandbox.running
        url = sandbox.base_url
        assert url == f"http://127.0.0.1:{sandbox.port}"
        assert sandbox.port > 0
        assert "hidden-pw" not in repr(sandbox)
        with pytest.raises(RuntimeError):
            sandbox.start()
        session = requests.Session()
        assert session.get(f"{sandbox.base_url}/Api/State", timeout=5).status_code == 401
    finally:
        sandbox.stop()
    sandbox.stop()
    assert not sandbox.running
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/Api/State", timeout=5)


def _request_and_answer(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/Api/State")
    connection.getresponse()


def test_stop_closes_idle_keep_alive_connections() -> None:
    sandbox = EcallSandbox().start()
    port = sandbox.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/Api/State")
    connection.getresponse().read()
    sandbox.stop()

    connection.auto_open = 0  # do not silently reconnect
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        _request_and_answer(connection)
    connection.close()


def test_two_sandboxes_use_different_ephemeral_ports() -> None:
    with EcallSandbox() as first, EcallSandbox() as second:
        assert first.port != second.port
        Api(first).sms()
        assert (len(first.messages), len(second.messages)) == (1, 0)
