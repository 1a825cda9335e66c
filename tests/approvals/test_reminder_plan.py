"""The reminder plan (plain Python): which send is due when — the latest reminder only, none
past the timeout or the cap — and the seal, which no one without a signing key opens."""

from __future__ import annotations

import pytest

from airflow_provider_ecall.approvals.plan import (
    PlanUnreadable,
    ReminderPlan,
    open_plan,
    seal_plan,
)
from airflow_provider_ecall.approvals.texts import (
    ApprovalRequest,
    escalation_text,
    reminder_text,
)

KEY, OLD, OTHER = "a" * 32, "b" * 32, "c" * 32
NUMBER, CALLED = "+41791112233", "+41794445566"


def plan(**changes: object) -> ReminderPlan:
    values: dict[str, object] = {
        "conn_id": "ecall_default",
        "subject": "Deploy build 1234?",
        "options": ("Approve", "Reject"),
        "multiple": False,
        "link": None,
        "sms_to": (NUMBER,),
        "voice_to": (CALLED,),
        "asked_at": 1000.0,
        "remind_every": 600.0,
        "escalate_after": 1800.0,
        "until": None,
        "max_reminders": 5,
    }
    return ReminderPlan(**{**values, **changes})  # type: ignore[arg-type]


def test_only_the_latest_reminder_is_due_and_the_call_from_its_time() -> None:
    assert plan().due(1000.0) == ()
    assert plan().due(1599.0) == ()
    assert plan().due(1600.0) == ("r1",)
    assert plan().due(2799.0) == ("r2",)  # late scan: one reminder, not a backlog
    assert plan().due(2800.0) == ("r3", "v1")
    assert plan().due(99_000.0) == ("r5", "v1")  # capped at max_reminders


def test_nothing_is_due_past_the_timeout_or_without_its_recipients() -> None:
    assert plan(until=2000.0).due(1999.0) == ("r1",)
    assert plan(until=2000.0).due(2000.0) == ()
    assert plan(sms_to=()).due(2800.0) == ("v1",)
    assert plan(voice_to=(), remind_every=None).due(9999.0) == ()


def test_the_seal_hides_the_plan_and_opens_with_any_configured_key() -> None:
    sealed = seal_plan(plan(), KEY)
    for clear in ("1112233", "4445566", "Deploy"):
        assert clear not in sealed
    assert open_plan(sealed, (KEY,)) == plan()
    assert open_plan(sealed, (OLD, KEY)) == plan()  # KEY rotated out of first place
    with pytest.raises(PlanUnreadable, match="no configured key opens"):
        open_plan(sealed, (OTHER,))
    with pytest.raises(PlanUnreadable):
        open_plan(sealed[:-4] + "AAAA", (KEY,))
    with pytest.raises(ValueError, match=r"\[ecall\] callback_signing_keys is not set"):
        seal_plan(plan())


def test_a_reminder_repeats_the_options_and_code_and_the_call_spells_the_code() -> None:
    request = ApprovalRequest("Deploy build 1234?", "long body", ("Approve", "Reject"), "K7Q2")
    assert reminder_text(request, 2).splitlines() == [
        "Reminder 2: Deploy build 1234?",
        "Reply with a number (ref K7Q2):",
        "1 Approve",
        "2 Reject",
    ]
    assert "reference is K 7 Q 2" in escalation_text("Deploy build 1234?", "K7Q2")
    # One sentence end, whatever the subject ends with (a voice reads "?." aloud oddly).
    asked = escalation_text("Deploy build 1234?", "K7Q2")
    assert "answer: Deploy build 1234? Its reference" in asked
    assert "answer: Deploy now. Its reference" in escalation_text("Deploy now.", "K7Q2")
    assert "answer: Deploy now. Its reference" in escalation_text("Deploy now", "K7Q2")
