"""The approval texts, JobIDs and codes (plain Python): a request always fits, the options
and the code survive shortening, replies are read by number or name."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_ecall.approvals.ids import (
    CODE_ALPHABET,
    request_job_id,
    request_of,
    short_code,
)
from airflow_provider_ecall.approvals.texts import (
    ApprovalRequest,
    ReplyUnreadable,
    confirmation,
    read_reply,
    refusal,
    request_text,
)
from airflow_provider_ecall.client.lengths import measure

TI = "0199b6a1-1f0e-7c6e-9a51-36a0f7c1d2e3"
LINK = "https://airflow.example.com/dags/d/runs/r/tasks/t/required_actions?map_index=-1"
OPTIONS = ("Approve", "Reject")


def test_a_short_request_is_sent_whole() -> None:
    text = request_text(ApprovalRequest("Deploy?", "Build 12 is green.", OPTIONS, "K7Q2", LINK))
    assert text.splitlines() == [
        "Deploy?",
        "Build 12 is green.",
        "Reply with a number (ref K7Q2):",
        "1 Approve",
        "2 Reject",
        LINK,
    ]


def test_a_long_body_gives_way_first_and_the_rest_stays() -> None:
    text = request_text(ApprovalRequest("Deploy?", "word " * 400, OPTIONS, "K7Q2", LINK))
    assert measure(text).pages <= 2
    lines = text.splitlines()
    assert lines[0] == "Deploy?"
    assert lines[1].startswith("word word")
    assert lines[1].endswith("...")
    assert lines[2:] == ["Reply with a number (ref K7Q2):", "1 Approve", "2 Reject", LINK]


def test_a_long_subject_is_cut_before_the_link_is_dropped() -> None:
    text = request_text(ApprovalRequest("Deploy " * 60, None, OPTIONS, "K7Q2", LINK))
    assert measure(text).pages <= 2
    assert text.splitlines()[0].endswith("...")
    assert text.splitlines()[-1] == LINK


def test_one_page_drops_the_link_when_nothing_else_gives() -> None:
    subject = "Deploy the nightly build to production " * 3
    text = request_text(ApprovalRequest(subject, "x" * 300, OPTIONS, "K7Q2", LINK), max_pages=1)
    assert measure(text).pages == 1
    assert LINK not in text
    assert "1 Approve\n2 Reject" in text


def test_many_options_say_that_several_may_be_chosen() -> None:
    text = request_text(ApprovalRequest("Pick", None, ("a", "b", "c"), "K7Q2", multiple=True))
    assert "Reply with one or more numbers (ref K7Q2):\n1 a\n2 b\n3 c" in text


@settings(max_examples=60, deadline=None)
@given(
    subject=st.text(max_size=2000),
    body=st.one_of(st.none(), st.text(max_size=4000)),
    options=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=30),
    pages=st.integers(1, 10),
)
def test_any_request_fits_eCall_without_failing(
    subject: str, body: str | None, options: list[str], pages: int
) -> None:
    text = request_text(ApprovalRequest(subject, body, options, "K7Q2", LINK), max_pages=pages)
    assert measure(text).fits


@pytest.mark.parametrize(
    ("reply", "chosen"),
    [
        ("1", ("Approve",)),
        (" 2 ", ("Reject",)),
        ("K7Q2 1", ("Approve",)),
        ("k7q2, 2", ("Reject",)),
        ("approve", ("Approve",)),
        ("REJECT", ("Reject",)),
        ("1 1", ("Approve",)),
    ],
)
def test_a_reply_names_an_option_by_number_or_name(reply: str, chosen: tuple[str, ...]) -> None:
    assert read_reply(reply, OPTIONS, multiple=False, code="K7Q2") == chosen


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "reply with a number from 1 to 2"),
        ("K7Q2", "reply with a number from 1 to 2"),
        ("3", "reply with a number from 1 to 2"),
        ("0", "reply with a number from 1 to 2"),
        ("yes", "reply with a number from 1 to 2"),
        ("1 2", "choose one option only"),
    ],
)
def test_a_reply_that_names_no_single_option_is_unreadable(reply: str, reason: str) -> None:
    with pytest.raises(ReplyUnreadable, match=reason):
        read_reply(reply, OPTIONS, multiple=False, code="K7Q2")


def test_several_options_where_several_may_be_chosen() -> None:
    assert read_reply("3 1", ("a", "b", "c"), multiple=True, code="K7Q2") == ("c", "a")


def test_answers_to_the_responder() -> None:
    said = confirmation(["Approve"], "deploy/approve", "alice")
    assert said == "Approve: deploy/approve, by alice"
    assert refusal("this request was already answered", "deploy/approve") == (
        "Not recorded (deploy/approve): this request was already answered"
    )


def test_a_job_id_names_its_request_and_its_batches() -> None:
    job = request_job_id(TI, "n")
    assert len(job + "-12") <= 50
    assert request_of(job) == TI
    assert request_of(job + "-3") == TI
    assert request_of(request_job_id(TI, "r12")) == TI
    for other in (None, "", "alert-1", job + "-x", "hitl-" + "0" * 31 + "-n"):
        assert request_of(other) is None
    with pytest.raises(ValueError, match="send"):
        request_job_id(TI, "reminder")


def test_the_short_code_is_stable_and_readable() -> None:
    code = short_code(TI)
    assert code == short_code(TI.upper())
    assert len(code) == 4
    assert set(code) <= set(CODE_ALPHABET)
    codes = {short_code(str(uuid.uuid4())) for _ in range(200)}
    assert len(codes) > 190
