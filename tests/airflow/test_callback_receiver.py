"""The callback receiver: eCall's GETs (Windows-1252, eCall's times) become asset events in a
real Airflow metadata database; bad tokens, bad queries and repeats are answered as promised,
and the token never reaches a log."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.plugins._callbacks import read_tokens
from airflow_provider_ecall.plugins.ecall import (
    ReceiverSettings,
    _HideTokens,
    build_app,
    fastapi_apps,
    hide_tokens,
)
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.callbacks import callback_url, delivery_params, reply_params
from tests.airflow.conftest import CALLBACK_TOKEN as TOKEN
from tests.airflow.conftest import forget_callbacks

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from tests.conftest import AirflowHome

SENDER = "+41791112233"
LEASED = "+41790000000"
REPLIES = "ecall_callback_replies"
REPORTS = "ecall_delivery_reports"


def _events(name: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == name)
        ).all()
        return [dict(row.extra) for row in rows]


@pytest.fixture
def assets(airflow_home: AirflowHome) -> Iterator[None]:
    """The two assets, declared (as a DAG would) for this test, removed after it."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.add_all(
            [AssetModel(name=REPLIES, uri=REPLIES), AssetModel(name=REPORTS, uri=REPORTS)]
        )
    yield
    with create_session() as session:
        session.execute(delete(AssetEvent))
        session.execute(delete(AssetModel).where(AssetModel.name.in_([REPLIES, REPORTS])))


def _reply_path(message: str = "Grüezi, ACK", token: str = TOKEN, **extra: str) -> str:
    params = reply_params(address_from=SENDER, address_to=LEASED, message=message, job_id="j-1")
    return callback_url(f"/callbacks/{token}/reply", {**params, **extra})


@pytest.mark.usefixtures("assets")
def test_a_reply_becomes_one_asset_event_and_a_repeat_is_not_recorded_again(
    receiver: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = _reply_path()
    assert "Gr%FCezi" in path  # Windows-1252 on the wire
    with caplog.at_level(logging.DEBUG):
        first = receiver.get(path)
        repeat = receiver.get(path)
    assert (first.status_code, first.text) == (200, "OK")
    assert (repeat.status_code, repeat.text) == (200, "OK (repeat)")
    [extra] = _events(REPLIES)
    payload = extra["payload"]
    assert extra["from_callback"] is True
    assert payload["message"] == "Grüezi, ACK"
    assert (payload["address_from"], payload["address_to"]) == (SENDER, LEASED)
    assert payload["job_id"] == "j-1"
    assert payload["source"] == "callback"
    assert payload["message_id"].startswith("cb-")
    assert payload["timestamp"][-6:] in {"+01:00", "+02:00"}  # eCall's local time, made explicit
    assert TOKEN not in caplog.text
    assert SENDER not in caplog.text


@pytest.mark.usefixtures("assets")
def test_a_delivery_notification_lands_on_its_own_asset(receiver: TestClient) -> None:
    params = delivery_params(number=SENDER, result_code=8, result_text="Delivered", job_id="j-2")
    answer = receiver.get(callback_url(f"/callbacks/{TOKEN}/delivery", params))
    assert answer.status_code == 200
    [extra] = _events(REPORTS)
    assert extra["payload"]["result_code"] == 8
    assert extra["payload"]["job_id"] == "j-2"
    assert _events(REPLIES) == []


@pytest.mark.usefixtures("assets")
@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        (_reply_path(token="tok-" + "0" * 48), 404, "Not Found"),
        (_reply_path(token=TOKEN[:-1]), 404, "Not Found"),
        (f"/callbacks/{TOKEN}/other?Message=x", 404, "Not Found"),
        (_reply_path(message=""), 400, "Message is required for a reply callback"),
        (_reply_path(TimeStamp="2026-01-01T10:00:00"), 400, "TimeStamp must read dd.mm.yyyy"),
        (_reply_path() + "&message=again", 400, "Message is given more than once"),
        (_reply_path() + "&X=%81", 400, "not percent-encoded Windows-1252"),
        (_reply_path("x" * 9000), 414, "longer than 8192 bytes"),
        (
            f"/callbacks/{TOKEN}/delivery?ResultCode=ok&Number=1&TimeStamp=01.01.2026+10:00:00",
            400,
            "ResultCode must be a whole number",
        ),
    ],
)
def test_refused_callbacks_record_nothing(
    receiver: TestClient, path: str, status: int, reason: str
) -> None:
    answer = receiver.get(path)
    assert answer.status_code == status
    assert reason in answer.text
    assert _events(REPLIES) == []
    assert _events(REPORTS) == []


def test_without_the_asset_the_answer_is_503_and_a_later_retry_is_recorded(
    receiver: TestClient, request: pytest.FixtureRequest
) -> None:
    path = _reply_path()
    assert receiver.get(path).status_code == 503
    request.getfixturevalue("assets")
    assert receiver.get(path).status_code == 200
    assert len(_events(REPLIES)) == 1


def test_logs_show_neither_the_token_nor_the_query() -> None:
    shown = hide_tokens(f"/ecall/callbacks/{TOKEN}/reply?AddressFrom=%2B41791112233")
    assert shown == "/ecall/callbacks/***/reply"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/ecall/callbacks/{TOKEN}/delivery?Number=1", "1.1", 200),
        None,
    )
    assert _HideTokens().filter(record)
    assert TOKEN not in record.getMessage()
    assert "/ecall/callbacks/***/delivery" in record.getMessage()


def test_short_tokens_are_refused_and_no_token_mounts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="token 2 is shorter than 32") as caught:
        read_tokens(f"{TOKEN} short-token")
    assert "short-token" not in str(caught.value)
    monkeypatch.delenv("AIRFLOW__ECALL__CALLBACK_TOKENS", raising=False)
    fastapi_apps.cache_clear()
    try:
        assert fastapi_apps() == []
    finally:
        fastapi_apps.cache_clear()


class _AccessLog:
    """Stands in for the structlog logger of Airflow 3.3's access-log middleware."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})


@pytest.mark.usefixtures("assets")
def test_the_access_log_middleware_of_airflow_3_3_shows_neither_token_nor_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Airflow 3.3 logs requests with its own middleware (path and query as in the ASGI scope
    # after the answer), no longer through uvicorn's access logger.
    access = pytest.importorskip("airflow.api_fastapi.common.http_access_log")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    log = _AccessLog()
    monkeypatch.setattr(access, "logger", log)
    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_TOKENS", TOKEN)
    forget_callbacks()
    fastapi_apps.cache_clear()
    try:
        [plugin] = fastapi_apps()
    finally:
        fastapi_apps.cache_clear()
    server = FastAPI()
    server.add_middleware(access.HttpAccessLogMiddleware)
    server.mount(plugin["url_prefix"], plugin["app"])  # as Airflow's init_plugins does
    answer = TestClient(server).get(plugin["url_prefix"] + _reply_path())
    assert answer.status_code == 200
    [extra] = _events(REPLIES)
    assert extra["payload"]["address_from"] == SENDER  # the receiver saw the real query
    [line] = log.lines
    assert (line["path"], line["query"]) == ("/ecall/callbacks/***/reply", "")
    assert TOKEN not in str(line)
    assert SENDER[3:] not in str(line)


@pytest.mark.e2e
def test_airflow_loads_the_plugin_and_mounts_the_receiver(airflow_home: AirflowHome) -> None:
    script = (
        "from airflow import plugins_manager as p; apps, _ = p.get_fastapi_plugins(); "
        "print([(a['name'], a['url_prefix']) for a in apps])"
    )
    env = {**airflow_home.env, "AIRFLOW__ECALL__CALLBACK_TOKENS": TOKEN}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "('eCall callbacks', '/ecall')" in done.stdout, done.stderr[-2000:]
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.usefixtures("assets")
def test_the_sandbox_answers_through_a_running_receiver(
    ecall_sandbox: EcallSandbox, client: EcallClient
) -> None:
    import uvicorn

    forget_callbacks()
    app = build_app(ReceiverSettings((TOKEN,)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        answer_url = f"http://127.0.0.1:{port}/callbacks/{TOKEN}/reply"
        client.send(
            SmsMessage(address=SENDER, message="disk full", job_id="j-3", answer=answer_url)
        )
        assert ecall_sandbox.answer("j-3", "ACK ça marche") == 200
    finally:
        server.should_exit = True
        thread.join(5)
    [extra] = _events(REPLIES)
    assert extra["payload"]["message"] == "ACK ça marche"
    assert extra["payload"]["job_id"] == "j-3"
