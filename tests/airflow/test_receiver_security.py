"""The callback receiver as a security reviewer probes it, in a real metadata database:
forged, replayed, expired, cross-job and simultaneous callbacks; repeats across restarts and
replicas; the leak paths (settings, a failed write's log); an undecodable trigger row; the
input edges eCall's encoding brings."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_ecall import get_provider_info
from airflow_provider_ecall.plugins.ecall import ReceiverSettings, build_app, fastapi_apps
from airflow_provider_ecall.plugins.signing import CallbackSigner
from airflow_provider_ecall.sandbox.callbacks import callback_url, delivery_params, reply_params
from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.airflow.conftest import CALLBACK_TOKEN as TOKEN
from tests.airflow.conftest import SIGNING_KEY, forget_callbacks
from tests.airflow.test_callback_receiver import REPLIES, REPORTS, _events
from tests.airflow.test_callback_receiver import assets as assets  # the fixture
from tests.airflow.test_callback_wakes_waits import DAG_BODY, _rows, _trigger

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from airflow_provider_ecall.utils.compat import DAG

pytestmark = [
    pytest.mark.compat(
        feature="Inbound SMS: asset-watcher trigger, reply sensor, callback receiver", since="3.0"
    ),
    pytest.mark.skipif(not airflow_at_least("3.0"), reason="the callback receiver needs 3.0"),
]

SENDER, LEASED = "+41791112233", "+41790000000"
SIGNER = CallbackSigner((SIGNING_KEY,))


def _signed(
    kind: str, job_id: str, *, expires: int | None = None, signer: CallbackSigner = SIGNER
) -> str:
    return signer.sign(kind, job_id, expires=expires or int(time.time()) + 3600)


def _delivery(token: str, job_id: str | None = "j-1", **extra: str) -> str:
    params = delivery_params(number=SENDER, result_code=8, result_text="Delivered", job_id=job_id)
    return callback_url(f"/callbacks/{token}/delivery", {**params, **extra})


def _reply(token: str = TOKEN, message: str = "ACK", **extra: str) -> str:
    params = reply_params(address_from=SENDER, address_to=LEASED, message=message, job_id="j-1")
    return callback_url(f"/callbacks/{token}/reply", {**params, **extra})


# -- signed URLs: one job, one kind, until the expiry -------------------------------------


@pytest.mark.usefixtures("assets")
def test_a_signed_url_is_taken_for_its_job_and_binds_the_job_when_the_query_names_none(
    receiver: TestClient,
) -> None:
    answer = receiver.get(_delivery(_signed("delivery", "j-signed"), job_id=None))
    assert (answer.status_code, answer.text) == (200, "OK")
    [extra] = _events(REPORTS)
    assert extra["payload"]["job_id"] == "j-signed"


@pytest.mark.usefixtures("assets")
@pytest.mark.parametrize(
    ("token", "job_id", "status"),
    [
        # forged: the right shape, made with a key the receiver does not have
        (_signed("delivery", "j-1", signer=CallbackSigner(("x" * 40,))), "j-1", 404),
        # cross-job: a good URL of job j-2, used for a callback about j-1
        (_signed("delivery", "j-2"), "j-1", 403),
        # cross-kind: a reply URL used as a delivery URL
        (_signed("reply", "j-1"), "j-1", 404),
        # expired
        (_signed("delivery", "j-1", expires=int(time.time()) - 1), "j-1", 410),
        # tampered: the JobID in the token swapped, the signature kept
        (_signed("delivery", "j-1").replace("ai0x", "ai0y"), "j-1", 404),
        ("s1.bm9wZQ.99999999999.AAAA", "j-1", 404),
        ("s1...", "j-1", 404),
    ],
    ids=["forged", "cross-job", "cross-kind", "expired", "tampered", "bad-mac", "empty"],
)
def test_a_signed_url_refuses_forged_cross_job_and_expired_callbacks(
    receiver: TestClient, token: str, job_id: str, status: int
) -> None:
    answer = receiver.get(_delivery(token, job_id=job_id))
    assert answer.status_code == status
    assert _events(REPORTS) == []


@pytest.mark.usefixtures("assets")
def test_a_replayed_callback_is_taken_once_even_after_a_restart_and_on_a_replica(
    receiver: TestClient,
) -> None:
    from fastapi.testclient import TestClient

    path = _delivery(_signed("delivery", "j-1"))
    assert receiver.get(path).text == "OK"
    # A restarted api-server, and a second replica: new processes, the same database.
    for _ in range(2):
        again = TestClient(build_app(ReceiverSettings((TOKEN,), (SIGNING_KEY,))))
        assert again.get(path).text == "OK (repeat)"
    # The same callback spelt otherwise (spaces, another JobID spelling of the same job).
    respelt = path.replace("TimeStamp=", "TimeStamp=+").replace("ResultCode=8", "ResultCode=+8")
    assert receiver.get(respelt).text == "OK (repeat)"
    assert len(_events(REPORTS)) == 1


@pytest.mark.usefixtures("assets")
def test_simultaneous_repeats_are_taken_once(receiver: TestClient) -> None:
    path = _delivery(TOKEN, job_id="j-race")
    answers: list[str] = []
    start = threading.Barrier(6)

    def call() -> None:
        start.wait()
        answers.append(receiver.get(path).text)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == ["OK"] + ["OK (repeat)"] * 5
    assert len(_events(REPORTS)) == 1


@pytest.mark.usefixtures("assets")
def test_a_remembered_callback_is_taken_again_after_its_window() -> None:
    from fastapi.testclient import TestClient

    forget_callbacks()
    short = TestClient(build_app(ReceiverSettings((TOKEN,), repeat_window=-1)))
    path = _delivery(TOKEN, job_id="j-window")
    assert short.get(path).text == "OK"
    assert short.get(path).text == "OK"  # the first key had expired: deleted, taken anew
    assert len(_events(REPORTS)) == 2


# -- leaks ---------------------------------------------------------------------------------


def test_the_secrets_are_declared_sensitive_and_every_component_masks_them() -> None:
    from airflow.configuration import conf

    options = get_provider_info()["config"]["ecall"]["options"]
    assert options["callback_tokens"]["sensitive"] is True
    assert options["callback_signing_keys"]["sensitive"] is True
    if airflow_at_least("3.3"):
        # Airflow 3.0.6 computes this set before the providers' settings are loaded (seen in
        # the compat run); there the receiver's and the sender's own mask_secret calls hold.
        assert ("ecall", "callback_tokens") in conf.sensitive_config_values
        assert ("ecall", "callback_signing_keys") in conf.sensitive_config_values


def test_a_bad_token_setting_disables_the_receiver_alone_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW__ECALL__CALLBACK_TOKENS", "short-token")
    fastapi_apps.cache_clear()
    try:
        with caplog.at_level(logging.ERROR):
            assert fastapi_apps() == []
    finally:
        fastapi_apps.cache_clear()
    assert "eCall callback receiver disabled: [ecall] callback_tokens: token 1 is shorter" in (
        caplog.text
    )
    assert "short-token" not in caplog.text


@pytest.mark.usefixtures("assets")
def test_a_failed_write_logs_the_error_type_only(
    receiver: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    from airflow_provider_ecall.utils import compat as _compat

    def fail(**kwargs: Any) -> None:
        # As SQLAlchemy's errors do, its text shows the statement's parameters.
        raise OperationalError("INSERT INTO asset_event", kwargs["extra"], Exception("locked"))

    monkeypatch.setattr(_compat.asset_manager, "register_asset_change", fail)
    with caplog.at_level(logging.DEBUG):
        answer = receiver.get(_reply(message="secret plan"))
    assert answer.status_code == 503
    # Every record but the test client's own (httpx logs the URL it requests).
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "not taken (OperationalError)" in logged
    assert "secret plan" not in logged
    assert SENDER[3:] not in logged
    monkeypatch.undo()
    assert receiver.get(_reply(message="secret plan")).text == "OK"  # the key rolled back


# -- an undecodable trigger row ----------------------------------------------------------


def test_an_undecodable_trigger_row_is_skipped_and_the_others_resume(
    load_dag: Callable[..., DAG], receiver: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import delete

    run = load_dag(DAG_BODY).test()
    try:
        with create_session() as session:
            for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id):
                row = Trigger.from_object(_trigger("j-1"))
                if ti.task_id == "first":  # a row an older provider left: not our format
                    row.encrypted_kwargs = "not-a-fernet-token"
                session.add(row)
                session.flush()
                ti.state, ti.trigger_id = TaskInstanceState.DEFERRED, row.id
                ti.next_method, ti.next_kwargs = "execute_complete", {}
        with caplog.at_level(logging.WARNING):
            answer = receiver.get(_delivery(TOKEN, job_id="j-1"))
        assert (answer.status_code, answer.text) == (200, "OK")
        rows = _rows()
        assert rows["first"][0] == "deferred"
        assert rows["second"][0] == "scheduled"
        assert "does not decode (" in caplog.text
    finally:
        with create_session() as session:
            session.execute(delete(TaskInstance).where(TaskInstance.run_id == run.run_id))
            session.execute(delete(Trigger))


# -- input edges -------------------------------------------------------------------------


@pytest.mark.usefixtures("assets")
def test_an_unescaped_plus_in_a_number_reads_as_eCall_means_it(receiver: TestClient) -> None:
    path = _reply().replace("AddressFrom=%2B41", "AddressFrom=+41")
    assert "AddressFrom=+41791112233" in path
    assert receiver.get(path).text == "OK"
    [extra] = _events(REPLIES)
    assert extra["payload"]["address_from"] == SENDER


@pytest.mark.usefixtures("assets")
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("Message=ACK", "Message=A%00CK"), "Message must not hold control characters"),
        (("AddressFrom=%2B41", "AddressFrom=%2B41%00"), "AddressFrom must not hold control"),
        (("AddressFrom=%2B41791112233", "AddressFrom=%2B4179abc"), "AddressFrom must be a phone"),
        (("AddressFrom=%2B41791112233", "AddressFrom=%2B%D9%A1"), "AddressFrom must be a phone"),
    ],
)
def test_bad_reply_fields_are_refused_naming_the_parameter(
    receiver: TestClient, change: tuple[str, str], reason: str
) -> None:
    path = _reply().replace(*change)
    assert change[1] in path
    answer = receiver.get(path)
    assert (answer.status_code, reason in answer.text) == (400, True), answer.text
    assert _events(REPLIES) == []


@pytest.mark.usefixtures("assets")
@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"TimeStamp": "01.01.0001 10:00:00"}, "TimeStamp must lie between"),
        ({"TimeStamp": "31.12.9999 10:00:00"}, "TimeStamp must lie between"),
        ({"ResultCode": "1_0"}, "ResultCode must be a whole number (ASCII digits)"),
        ({"ResultCode": "٨"}, "ResultCode must be a whole number (ASCII digits)"),
        ({"ResultCode": "²"}, "ResultCode must be a whole number (ASCII digits)"),
        ({"Number": "+41 79"}, "Number must be a phone number"),
    ],
)
def test_bad_delivery_fields_are_refused_naming_the_parameter(
    receiver: TestClient, extra: dict[str, str], reason: str
) -> None:
    try:
        path = _delivery(TOKEN, **extra)
    except UnicodeEncodeError:  # not even eCall's encoding can carry it: sent as UTF-8
        path = _delivery(TOKEN).replace("ResultCode=8", "ResultCode=%D9%A8")
    answer = receiver.get(path)
    assert (answer.status_code, reason in answer.text) == (400, True), answer.text
    assert _events(REPORTS) == []


@pytest.mark.usefixtures("assets")
@pytest.mark.parametrize(
    ("named", "status"), [("j-1-2", 200), ("j-1-x", 403), ("j-12", 403), ("j-1-", 403)]
)
def test_a_signed_url_covers_the_batches_of_its_send_and_nothing_else(
    receiver: TestClient, named: str, status: int
) -> None:
    # A send to many recipients goes out as <JobID>-1, <JobID>-2, … (EcallClient.plan).
    answer = receiver.get(_delivery(_signed("delivery", "j-1"), job_id=named))
    assert answer.status_code == status
    assert len(_events(REPORTS)) == (status == 200)


@pytest.mark.e2e
def test_the_repeat_table_leaves_airflow_db_migrate_and_reset_working(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
    }
    make_table = (
        "from airflow_provider_ecall.plugins._store import CallbackStore; "
        "CallbackStore(lambda *a: 0, 60)._ensure_table()"
    )
    steps = [
        [airflow, "db", "migrate"],
        [sys.executable, "-c", make_table],
        [airflow, "db", "migrate"],
        [airflow, "db", "reset", "-y"],
    ]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (step, done.stdout[-2000:], done.stderr[-2000:])
