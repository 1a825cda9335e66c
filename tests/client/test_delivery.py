"""The status table, per-recipient reports and a wait's first poll for many jobs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage, StatusRecord
from airflow_provider_ecall.client.delivery import DeliveryReport
from airflow_provider_ecall.client.planner import QueryPlanner, Want
from airflow_provider_ecall.client.statuses import STATUS_TABLE, meaning_of, outcome_of_code
from airflow_provider_ecall.sandbox import EcallSandbox

ROOT = Path(__file__).resolve().parents[2]
PHONE, OTHER = "+41791112233", "+41791112244"
REFERENCE_CODES = {0, 1, 2, 3, 8, 9, 10, 30, 31, 33, 34, 39, 41, 42}


def test_the_table_covers_every_code_of_the_reference_once() -> None:
    reference = (ROOT.parent.parent / "shared/reference/ecall-https-interface.md").resolve()
    if reference.exists():  # the vendor notes live beside the project, not in it
        section = reference.read_text().split("## 5.")[1].split("## 6.")[0]
        listed = section.split("Status codes")[1].split("- This call")[0]
        assert {int(n) for n in re.findall(r"\b(\d{1,2})\b", listed)} == REFERENCE_CODES
    assert sorted(row.code for row in STATUS_TABLE) == sorted(REFERENCE_CODES)


def test_the_table_is_documented_row_for_row() -> None:
    page = (ROOT / "docs" / "delivery.md").read_text()
    for row in STATUS_TABLE:
        mark = " (guess)" if row.guess else ""
        assert f"| {row.code} | {row.kinds} | {row.name} | {row.outcome}{mark} |" in page


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(8, "delivered"), (34, "delivered"), (41, "delivered"), (2, "failed"), (42, "failed"),
     (33, "failed"), (1, "pending"), (39, "pending"), (101, "pending"), (501, "pending"),
     (502, "unknown"), (77, "unknown"), (None, "unknown")],
)  # fmt: skip
def test_codes_map_to_outcomes(code: int | None, outcome: str) -> None:
    assert outcome_of_code(code) == outcome
    assert (meaning_of(code) is None) == (outcome == "unknown")


def _record(job: str, address: str | None, code: int | None, text: str = "t") -> StatusRecord:
    return StatusRecord(job, address, code, text, None, "27.11.2026 10:00:00")


def test_report_masks_numbers_and_decides_only_when_every_recipient_is_final() -> None:
    found = {
        "a": (_record("a", PHONE, 8, "Delivered"), _record("a", OTHER, 9)),
        "b": (_record("b", None, 41),),
    }

    waiting = DeliveryReport.build(["a", "b", "c"], found)
    found["a"] = (_record("a", PHONE, 8, "Delivered"), _record("a", OTHER, 2, "Error"))
    done = DeliveryReport.build(["a", "b"], found)

    assert waiting.missing == ("c",)
    assert waiting.verdict("delivered") == waiting.verdict("final") == "waiting"
    assert [r.recipient for r in done.recipients] == ["+41******233", "+41******244", "#1"]
    assert done.verdict("delivered") == "failed"
    assert done.verdict("final") == "final"
    assert [r.describe() for r in done.of("failed")] == ["job a to +41******244: failed (2 Error)"]
    assert PHONE not in repr(done.to_dict())
    assert DeliveryReport.from_dict(done.to_dict()) == done


def test_scheduled_jobs_are_pending_and_all_delivered_is_delivered() -> None:
    scheduled = StatusRecord("s", None, None, "JobScheduled", None, None, {"ResultCode": "11912"})
    report = DeliveryReport.build(["s"], {"s": (scheduled,)})
    delivered = DeliveryReport.build(["d"], {"d": (_record("d", PHONE, 34),)})

    assert report.recipients[0].outcome == "pending"
    assert report.verdict("final") == "waiting"
    assert delivered.verdict("delivered") == delivered.verdict("final") == "delivered"


def test_a_recipient_listed_twice_counts_once_with_its_latest_status() -> None:
    old = StatusRecord("j", PHONE, 1, "Sent", datetime(2026, 1, 1, tzinfo=timezone.utc), "x")
    new = StatusRecord("j", PHONE, 8, "Done", datetime(2026, 1, 2, tzinfo=timezone.utc), "y")

    report = DeliveryReport.build(["j"], {"j": (new, old)})

    assert [r.status_code for r in report.recipients] == [8]


def _send(client: EcallClient, job: str, *numbers: str) -> None:
    client.send(SmsMessage(address=list(numbers) or [PHONE], message="hi", job_id=job))


def _state_requests(sandbox: EcallSandbox) -> list[dict[str, str]]:
    return [r.params for r in sandbox.requests if r.endpoint == "state"]


def _round(client: EcallClient, jobs: list[str], since: datetime) -> dict[str, object]:
    """What a wait's first poll asks (a fresh planner: it knows only these jobs)."""
    now = datetime.now(timezone.utc)
    return dict(QueryPlanner().run(client, [Want(j, since, now) for j in jobs], now).records)


def test_many_jobs_cost_one_window_query(client: EcallClient, sandbox: EcallSandbox) -> None:
    sandbox.configure_delivery(delay=0, failing=[OTHER])
    since = datetime.now(timezone.utc)
    for n in range(20):
        _send(client, f"job-{n}", PHONE, OTHER)
    before = len(_state_requests(sandbox))

    found = _round(client, [f"job-{n}" for n in range(20)], since)

    queries = _state_requests(sandbox)[before:]
    assert len(queries) == 1
    assert "StartDate" in queries[0]
    assert sorted(found) == sorted(f"job-{n}" for n in range(20))
    assert {r.status_code for records in found.values() for r in records} == {8, 2}  # type: ignore[attr-defined]


def test_one_job_is_asked_by_job_id(client: EcallClient, sandbox: EcallSandbox) -> None:
    _send(client, "alone")
    before = len(_state_requests(sandbox))

    found = _round(client, ["alone", "alone"], datetime.now(timezone.utc))

    assert [q.get("JobID") for q in _state_requests(sandbox)[before:]] == ["alone"]
    assert list(found) == ["alone"]


def test_jobs_outside_the_window_are_asked_by_job_id_the_next_poll(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    _send(client, "old")
    since = datetime.now(timezone.utc) + timedelta(hours=1)  # "old" was sent before this
    _send(client, "new")
    planner = QueryPlanner()
    wants = [Want(job, since, datetime.now(timezone.utc)) for job in ("old", "new", "ghost")]
    before = len(_state_requests(sandbox))

    first = planner.run(client, wants, datetime.now(timezone.utc))
    second = planner.run(client, wants, datetime.now(timezone.utc))

    queries = _state_requests(sandbox)[before:]
    assert [q.get("JobID") for q in queries if "JobID" in q] == ["old", "new", "ghost"]
    assert sorted(first.records) == []  # the window covers none: all three sent before "since"
    assert sorted(second.records) == ["new", "old"]


def test_the_window_is_split_when_eCall_finds_it_too_large(
    client: EcallClient, sandbox: EcallSandbox
) -> None:
    since = datetime.now(timezone.utc)
    for n in range(3):
        _send(client, f"w-{n}", PHONE, OTHER)
    sandbox.inject(endpoint="state", status=400, result_code=11701)

    found = _round(client, ["w-0", "w-1", "w-2"], since)

    assert sorted(found) == ["w-0", "w-1", "w-2"]
    assert sum(len(records) for records in found.values()) == 6  # type: ignore[arg-type]
