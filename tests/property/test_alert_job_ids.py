"""The alert JobID scheme: one JobID per alert, another for anything that differs, each
starting with the prefix of the failure it is about (what the watchdog's sweeper looks for).
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.notifications._policy import alert_job_id, recipients
from airflow_provider_ecall.notifications.alert_ids import Failure, failure_of, prefixes_of

_TEXT = st.text(min_size=0, max_size=30)
_FACTS = st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, st.sampled_from(["task", "dag"]))
_KIND = st.sampled_from(["sms", "fax", "voice"])
_TO = st.lists(st.text(min_size=1, max_size=16), max_size=5)
_SHAPE = re.compile(r"^afa-[0-9a-f]{20}-[0-9a-f]{12}$")


@given(_FACTS, _KIND, _TO)
def test_one_alert_has_one_job_id_that_leaves_room_for_a_batch_suffix(
    facts: tuple[str, ...], kind: str, to: list[str]
) -> None:
    job_id = alert_job_id(facts, kind, recipients(to))
    assert job_id == alert_job_id(list(facts), kind, recipients(list(reversed(to))))
    assert _SHAPE.match(job_id)
    assert check.job_id(f"{job_id}-99999") == f"{job_id}-99999"  # ≤ 50 with a batch suffix


@given(_FACTS, _KIND, _TO, st.integers(min_value=0, max_value=8), _TEXT)
def test_any_other_fact_kind_or_recipient_set_gives_another_job_id(
    facts: tuple[str, ...], kind: str, to: list[str], which: int, other: str
) -> None:
    base = alert_job_id(facts, kind, recipients(to))
    changed_facts, changed_kind, changed_to = list(facts), kind, recipients(to)
    if which < 6:
        changed_facts[which] = facts[which] + "x" + other
    elif which == 6:
        changed_kind = {"sms": "fax", "fax": "voice", "voice": "sms"}[kind]
    elif which == 7:
        changed_to = recipients([*to, "+41" + other + "9"])
        if changed_to == recipients(to):
            return
    else:
        changed_facts[6] = "dag" if facts[6] == "task" else "task"
    assert alert_job_id(changed_facts, changed_kind, changed_to) != base


@given(_TEXT, _TEXT, _TEXT, st.integers(-1, 50), st.integers(1, 20), _TEXT, _KIND, _TO)
def test_a_task_alert_starts_with_its_task_instance_try_prefix(
    dag: str, run: str, task: str, index: int, attempt: int, state: str, kind: str, to: list[str]
) -> None:
    facts = [dag, task, run, str(index), str(attempt), state, "task"]
    job_id = alert_job_id(facts, kind, recipients(to))
    failure = Failure(dag, run, task, str(index), str(attempt))
    assert job_id.startswith(failure.prefix())
    assert failure_of(facts, dag_level=False) == failure
    # Another try, map index or task has another prefix: its failure is not covered.
    for other in (
        Failure(dag, run, task, str(index), str(attempt + 1)),
        Failure(dag, run, task, str(index + 1), str(attempt)),
        Failure(dag, run, task + "x", str(index), str(attempt)),
    ):
        assert not job_id.startswith(other.prefix())


@given(_TEXT, _TEXT, _TEXT, _TEXT, _KIND, _TO)
def test_a_dag_alert_covers_its_run_whatever_its_last_task(
    dag: str, run: str, last_task: str, reason: str, kind: str, to: list[str]
) -> None:
    facts = [dag, last_task, run, "-1", "1", reason, "dag"]
    job_id = alert_job_id(facts, kind, recipients(to))
    run_failure = Failure(dag, run)
    assert job_id.startswith(run_failure.prefix())
    task_failure = Failure(dag, run, last_task, "-1", "1")
    assert not job_id.startswith(task_failure.prefix())
    assert any(job_id.startswith(p) for p in prefixes_of(task_failure))
    assert not job_id.startswith(Failure(dag, run + "x").prefix())
