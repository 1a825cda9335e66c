"""Delivery that progresses: stages per kind, failing / never-resolving / unanswered numbers,
hand-set statuses that stay, and the same behaviour from the library, the CLI and the marker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.sandbox import DeliveryBehaviour, EcallSandbox
from airflow_provider_ecall.sandbox.__main__ import build_parser, delivery_from
from airflow_provider_ecall.sandbox.delivery import DeliveryProgress
from airflow_provider_ecall.sandbox.state import RecipientStatus
from tests.sandbox.conftest import PHONE, Api, statuses_of
from tests.sandbox.test_cli import _start

OTHER = "+41791112244"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)

SENT, WAIT, DONE = (1, "Transmitted"), (9, "Waiting for delivery"), (8, "Delivered")
FAXING = (101, "Transmitting")
CALLING, CALLED = (30, "Sending"), (31, "Sent")
STAGES = [
    # kind, address behaviour, [(code, text) before delay/2, until delay, after delay]
    ("sms", {}, [SENT, WAIT, DONE]),
    ("sms", {"failing": [PHONE]}, [SENT, WAIT, (2, "Error")]),
    ("sms", {"never": [PHONE]}, [SENT, WAIT, WAIT]),
    ("fax", {}, [FAXING, FAXING, (41, "Sent")]),
    ("fax", {"failing": [PHONE]}, [FAXING, FAXING, (42, "Finished with error")]),
    ("voice", {}, [CALLING, CALLED, (34, "Played and confirmed")]),
    ("voice", {"unconfirmed": [PHONE]}, [CALLING, CALLED, (33, "Played, not confirmed")]),
    ("voice", {"unanswered": [PHONE]}, [CALLING, (39, "Retry stage"), (2, "Error: not answered")]),
    ("voice", {"never": [PHONE]}, [CALLING, CALLED, CALLED]),
]


@pytest.mark.parametrize(("kind", "numbers", "expected"), STAGES)
def test_each_kind_progresses_through_its_stages(
    kind: str, numbers: dict[str, list[str]], expected: list[tuple[int, str]]
) -> None:
    # Numbers are matched in any spelling: 0041… is +41….
    spelled = {name: ["0041" + PHONE[3:] for _ in values] for name, values in numbers.items()}
    behaviour = DeliveryBehaviour(delay=10, **spelled)  # type: ignore[arg-type]

    seen = [behaviour.status(kind, PHONE, elapsed) for elapsed in (0, 5, 10)]  # type: ignore[arg-type]

    assert seen == expected
    assert (
        behaviour.status(kind, OTHER, 10)
        == (  # type: ignore[arg-type]
            {"sms": (8, "Delivered"), "fax": (41, "Sent"), "voice": (34, "Played and confirmed")}[
                kind
            ]
        )
    )


def _stored(job: str, *, scheduled_for: datetime | None = None) -> RecipientStatus:
    code, stamp = (3, scheduled_for) if scheduled_for else (1, T0)
    return RecipientStatus(job, PHONE, code, "first", stamp, T0)


def test_progress_stamps_each_stage_and_waits_for_a_send_date() -> None:
    progress = DeliveryProgress(DeliveryBehaviour(delay=60))
    progress.register("now", "sms")
    progress.register("later", "sms")
    later = T0 + timedelta(hours=1)
    items = [_stored("now"), _stored("later", scheduled_for=later)]

    at_45s = progress.apply(items, T0 + timedelta(seconds=45))
    after = progress.apply(items, later + timedelta(minutes=2))

    assert [(s.code, s.timestamp) for s in at_45s] == [
        (9, T0 + timedelta(seconds=30)),
        (3, later),  # scheduled: not started yet
    ]
    assert [(s.code, s.timestamp) for s in after] == [
        (8, T0 + timedelta(seconds=60)),
        (8, later + timedelta(seconds=60)),
    ]


def test_unregistered_and_pinned_statuses_stay_as_stored() -> None:
    progress = DeliveryProgress(DeliveryBehaviour(delay=0))
    progress.register("pinned", "sms")
    progress.pin("pinned", PHONE)

    found = progress.apply([_stored("pinned"), _stored("unknown")], T0 + timedelta(hours=1))

    assert [s.code for s in found] == [1, 1]


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="delay"):
        DeliveryBehaviour(delay=-1)


def test_api_state_reports_progress_over_http(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.configure_delivery(delay=3600, failing=[OTHER])
    api.sms(Address=f"{PHONE};{OTHER}", JobID="slow")
    first = statuses_of(api.call("Api/State", JobID="slow"))

    sandbox.configure_delivery(delay=0)  # jobs in flight follow the new behaviour
    final = statuses_of(api.call("Api/State", JobID="slow"))
    start = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    end = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    window = statuses_of(api.call("Api/State", StartDate=start, EndDate=end))

    assert [s["StatusCode"] for s in first] == ["1", "1"]
    assert [(s["Address"], s["StatusCode"]) for s in final] == [(PHONE, "8"), (OTHER, "2")]
    assert [(s["JobID"], s["StatusCode"]) for s in window] == [("slow", "8"), ("slow", "2")]


def test_a_hand_set_status_stops_progressing(api: Api, sandbox: EcallSandbox) -> None:
    sandbox.configure_delivery(delay=0)
    api.sms(Address=f"{PHONE};{OTHER}", JobID="hand")

    sandbox.set_status("hand", 9, "Waiting", address=PHONE)

    found = statuses_of(api.call("Api/State", JobID="hand"))
    assert [s["StatusCode"] for s in found] == ["9", "8"]


def test_reset_forgets_jobs_in_flight(api: Api, sandbox: EcallSandbox) -> None:
    api.sms(JobID="gone")
    sandbox.reset()

    assert api.call("Api/State", JobID="gone").status_code == 400


@pytest.mark.ecall_delivery(delay=0, unanswered=[PHONE])
def test_the_fixture_marker_configures_delivery(ecall_sandbox: EcallSandbox) -> None:
    assert ecall_sandbox.delivery == DeliveryBehaviour(delay=0, unanswered=frozenset({PHONE}))
    response = requests.post(
        f"{ecall_sandbox.base_url}/Api/Voice",
        data={
            "UserName": ecall_sandbox.username,
            "Password": ecall_sandbox.password,
            "Address": PHONE,
            "Message": "wake up",
            "JobID": "call",
        },
        timeout=10,
    )
    assert response.status_code == 200
    state = requests.post(
        f"{ecall_sandbox.base_url}/Api/State",
        data={
            "UserName": ecall_sandbox.username,
            "Password": ecall_sandbox.password,
            "JobID": "call",
        },
        timeout=10,
    )
    assert [s["StatusCode"] for s in statuses_of(state)] == ["2"]


def test_cli_flags_build_the_behaviour() -> None:
    flags = ["--delivery-delay", "0.5", "--fail", "0041791112233", "--fail", OTHER]
    args = build_parser().parse_args([*flags, "--never", "+41790000000"])

    assert delivery_from(args) == DeliveryBehaviour(
        delay=0.5, failing=frozenset({PHONE, OTHER}), never=frozenset({"+41790000000"})
    )
    with pytest.raises(SystemExit):
        delivery_from(build_parser().parse_args(["--delivery-delay", "-2"]))


def test_cli_sandbox_fails_the_numbers_it_is_told_to(tmp_path: Path) -> None:
    process, port = _start(tmp_path, "--quiet", "--delivery-delay", "0", "--fail", PHONE)
    try:
        auth = {"UserName": "sandbox-user", "Password": "sandbox-password"}
        base = f"http://127.0.0.1:{port}"
        fax = {**auth, "Address": PHONE, "Message": "x", "JobID": "f"}
        sent = requests.post(f"{base}/Api/Fax", data=fax, timeout=10)
        state = requests.post(f"{base}/Api/State", data={**auth, "JobID": "f"}, timeout=10)
    finally:
        process.terminate()
        process.communicate(timeout=20)

    assert sent.status_code == 200
    assert [(s["StatusCode"], s["StatusText"]) for s in statuses_of(state)] == [
        ("42", "Finished with error")
    ]
