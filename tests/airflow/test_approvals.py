"""Approvals by SMS in real Airflow 3.3: an ``ApprovalOperator`` with ``EcallHITLNotifier`` runs
under ``dag.test()`` (in a thread: the task waits for its answer), the request SMS goes to the
sandbox, and replies come back through the callback receiver, which records them with
Airflow's own route function — or refuses them, by SMS."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from airflow_provider_ecall.approvals.ids import short_code
from airflow_provider_ecall.utils.compat import airflow_at_least
from tests.airflow.approval_support import (
    ALICE,
    BASE,
    BOB,
    REQUESTED,
    STRANGER,
    Script,
    Waiting,
    answers,
    hitl_detail,
    run_with,
    texts_to,
)
from tests.airflow.conftest import ti_states

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun

__all__ = ["answers", "run_with"]  # fixtures from approval_support

pytestmark = [
    pytest.mark.compat(
        feature="Approvals by SMS: HITL notifier, replies as responses", since="3.1"
    ),
    # 3.1's and 3.2's dag.test() runs Airflow's HITL trigger in process, where it reads no
    # request and fails the task; their whole path is in make e2e, the receiver's part in
    # test_approval_requests.py.
    pytest.mark.skipif(
        not airflow_at_least("3.3"), reason="dag.test() waits for a HITL answer from 3.3"
    ),
]


def test_the_request_sms_asks_with_numbered_options_a_link_and_a_signed_answer_url(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    seen: list[str] = []
    run, waiting = run_with("", lambda w: seen.append(w.reply("1", ALICE)))
    sms, ti_id = waiting.sms, waiting.ti_id
    lines = sms.message.splitlines()
    assert lines[:3] == [
        "Deploy approve_deploy to production?",
        "Build 1234 passed its checks.",
        f"Reply with a number (ref {short_code(ti_id)}):",
    ]
    assert lines[3:5] == ["1 Approve", "2 Reject"]
    assert lines[5].startswith(f"{BASE}/dags/approve_deploy/runs/")
    assert lines[5].endswith("/tasks/approve/required_actions?map_index=-1")
    assert sms.addresses == (REQUESTED,)
    answer_url = sms.params["Answer"]
    assert answer_url.startswith(f"{BASE}/ecall/callbacks/s1.")
    assert answer_url.endswith("/approval")

    assert seen == ["OK"]
    assert ti_states(run)["approve"][0] == "success"
    detail = hitl_detail(ti_id)
    assert detail.chosen_options == ["Approve"]
    assert detail.responded_by == {"id": "alice", "name": "alice"}
    assert texts_to(waiting.sandbox, ALICE) == ["Approve: approve_deploy/approve, by alice"]


WHAT = "approve_deploy/approve"


def test_refused_replies_record_nothing_and_say_why_then_a_mapped_user_answers(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    pending: list[object] = []
    repeats: list[str] = []

    def script(w: Waiting) -> None:
        w.reply("1", STRANGER)
        w.reply("1", ALICE)
        w.reply("yes please", BOB)
        w.reply("3", BOB)
        pending.append(hitl_detail(w.ti_id).responded_at)
        w.reply("reject", BOB)
        repeats.append(w.again())  # the same callback again
        w.reply("1", BOB)  # a second answer, after the first

    run, waiting = run_with('assigned_users=[{"id": "bob", "name": "Bob"}],', script)
    assert pending == [None]
    assert repeats == ["OK (repeat)"]
    assert texts_to(waiting.sandbox, STRANGER) == [
        "Not recorded: this number may not answer approvals"
    ]
    assert texts_to(waiting.sandbox, ALICE) == [
        f"Not recorded ({WHAT}): alice is not assigned to this request"
    ]
    assert texts_to(waiting.sandbox, BOB) == [
        f"Not recorded ({WHAT}): reply with a number from 1 to 2",
        f"Not recorded ({WHAT}): reply with a number from 1 to 2",
        f"Reject: {WHAT}, by Bob",
        f"Not recorded ({WHAT}): this request was already answered",
    ]
    assert ti_states(run)["approve"][0] == "success"
    detail = hitl_detail(waiting.ti_id)
    assert detail.chosen_options == ["Reject"]
    assert detail.responded_by == {"id": "bob", "name": "Bob"}


def test_a_reply_without_job_id_names_its_request_by_code(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    def script(w: Waiting) -> None:
        w.reply("1", ALICE, signed=False, job=False)  # no JobID, no code: which request?
        w.reply(f"{short_code(w.request() and w.ti_id).lower()} 1", ALICE, signed=False, job=False)

    run, waiting = run_with("", script)
    assert texts_to(waiting.sandbox, ALICE) == [
        "Not recorded: no waiting request: reply to its SMS or include its ref code",
        f"Approve: {WHAT}, by alice",
    ]
    assert ti_states(run)["approve"][0] == "success"
    assert hitl_detail(waiting.ti_id).responded_by == {"id": "alice", "name": "alice"}


def _time_out(w: Waiting) -> None:
    w.request()
    if airflow_at_least("3.3"):  # the scheduler's sweep times it out (dag.test has none)
        import logging
        from types import SimpleNamespace

        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

        time.sleep(1.5)
        SchedulerJobRunner.check_awaiting_input_timeouts(SimpleNamespace(log=logging.getLogger()))


def test_a_reply_after_the_timeout_is_refused(
    run_with: Callable[[str, Script], tuple[DagRun, Waiting]],
) -> None:
    run, waiting = run_with('response_timeout=timedelta(seconds=1), defaults="Reject",', _time_out)
    waiting.reply("1", ALICE)
    assert ti_states(run)["approve"][0] == "success"
    detail = hitl_detail(waiting.ti_id)
    assert detail.chosen_options == ["Reject"]
    assert detail.responded_by is None
    assert texts_to(waiting.sandbox, ALICE) == [
        f"Not recorded ({WHAT}): this request timed out (its default answer was taken)"
    ]
