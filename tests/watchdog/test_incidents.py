"""The incident state machine: grace, one open and one close per incident, escalation,
unknown readings, take-over after a restart; and the incident JobIDs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.watchdog._incidents import (
    IncidentBook,
    Reading,
    incident_job_id,
    incident_text,
    parse_incident_job_id,
)

T0 = datetime(2026, 12, 3, 21, 0, tzinfo=timezone.utc)
BEAT = T0 - timedelta(seconds=40)
DOWN = Reading(False, BEAT, "last heartbeat 20:59:20 UTC")
UP = Reading(True)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_an_incident_opens_after_the_grace_and_closes_once() -> None:
    book = IncidentBook(grace=timedelta(seconds=30))
    assert book.observe({"scheduler": DOWN}, at(0)) == []
    assert book.observe({"scheduler": DOWN}, at(20)) == []
    (opened,) = book.observe({"scheduler": DOWN}, at(30))
    assert (opened.phase, opened.start) == ("open", BEAT)  # the heartbeat is its start
    assert book.observe({"scheduler": DOWN}, at(60)) == []
    (closed,) = book.observe({"scheduler": UP}, at(90))
    assert (closed.phase, closed.start) == ("done", BEAT)
    assert book.observe({"scheduler": UP}, at(120)) == []


def test_a_blip_shorter_than_the_grace_pages_nobody() -> None:
    book = IncidentBook(grace=timedelta(seconds=30))
    assert book.observe({"triggerer": DOWN}, at(0)) == []
    assert book.observe({"triggerer": UP}, at(20)) == []
    assert book.observe({"triggerer": DOWN}, at(25)) == []  # the grace starts again
    assert book.observe({"triggerer": DOWN}, at(50)) == []


def test_unknown_readings_keep_the_incident_open_and_a_long_one_calls() -> None:
    book = IncidentBook(grace=timedelta(0), escalate_after=timedelta(minutes=5))
    lost = Reading(False, None, "api-server: ConnectionError")
    (opened,) = book.observe({"api-server": lost}, at(0))
    assert opened.start == at(0)  # no heartbeat: the first reading is its start
    assert book.observe({"api-server": Reading(None)}, at(200)) == []
    (called,) = book.observe({"api-server": lost}, at(300))
    assert called.phase == "call"
    assert book.observe({"api-server": lost}, at(900)) == []  # one call per incident
    (closed,) = book.observe({"api-server": UP}, at(960))
    assert closed.detail == "lasted 16 min"


def test_a_restarted_watchdog_takes_over_without_paging_again() -> None:
    book = IncidentBook(grace=timedelta(seconds=30))
    book.adopt("scheduler", BEAT, called=False, now=at(0))
    assert book.observe({"scheduler": DOWN}, at(100)) == []
    (closed,) = book.observe({"scheduler": UP}, at(130))
    assert (closed.phase, closed.start) == ("done", BEAT)


def test_incident_job_ids_are_fixed_by_component_and_start_and_read_back() -> None:
    job = incident_job_id("prod", "dag_processor", BEAT, "open")
    assert job == incident_job_id("prod", "dag_processor", BEAT, "open")
    assert check.job_id(job + "-99") == job + "-99"
    others = {
        incident_job_id("prod", "scheduler", BEAT, "open"),
        incident_job_id("test", "dag_processor", BEAT, "open"),
        incident_job_id("prod", "dag_processor", BEAT + timedelta(seconds=1), "open"),
        incident_job_id("prod", "dag_processor", BEAT, "done"),
    }
    assert job not in others
    assert len(others) == 4
    parsed = parse_incident_job_id(job)
    assert parsed is not None
    assert parsed[1:] == (int(BEAT.timestamp()), "open")
    assert parse_incident_job_id("afa-" + job[4:]) is None


def test_the_texts_say_what_since_when_and_for_how_long() -> None:
    book = IncidentBook(grace=timedelta(0))
    (opened,) = book.observe({"dag:nightly": Reading(False, BEAT, "never succeeded")}, at(0))
    assert incident_text(opened, "prod") == (
        "Airflow prod: DAG nightly has no successful run in its window (never succeeded)."
    )
    assert opened.anchored
    (down,) = IncidentBook(grace=timedelta(0)).observe({"api-server": Reading(False)}, at(0))
    assert not down.anchored  # its start is this watchdog's reading: ask eCall first
    assert incident_text(down, "prod") == "Airflow prod: api-server DOWN since 21:00:00 UTC."


_STEP = st.tuples(st.sampled_from([True, False, None]), st.integers(1, 120))


@given(st.lists(_STEP, max_size=40), st.integers(0, 200))
def test_opens_and_closes_alternate_and_every_close_matches_its_open(
    steps: list[tuple[bool | None, int]], grace: int
) -> None:
    book = IncidentBook(grace=timedelta(seconds=grace), escalate_after=timedelta(seconds=300))
    now, open_start, calls = T0, None, 0
    for healthy, gap in steps:
        now += timedelta(seconds=gap)
        reading = Reading(healthy, None, "x")
        for action in book.observe({"scheduler": reading}, now):
            if action.phase == "open":
                assert open_start is None
                open_start, calls = action.start, 0
            elif action.phase == "call":
                assert open_start == action.start
                calls += 1
                assert calls == 1
            else:
                assert open_start == action.start
                assert healthy is True
                open_start = None
    if open_start is not None:
        assert book.open_incidents() == {"scheduler": open_start}
