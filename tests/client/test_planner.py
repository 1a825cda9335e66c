"""The shared poller's query planner against the sandbox, whose clock a test moves so that
sends spread over minutes or days: windows eCall answers whole, JobIDs where cheaper, the
11701 split as the fallback, and what it learns about the account's other traffic."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage, StatusRecord
from airflow_provider_ecall.client.planner import Answer, QueryPlanner, Want
from airflow_provider_ecall.sandbox import EcallSandbox

LIMIT = 20


@pytest.fixture
def sandbox() -> Iterator[EcallSandbox]:
    with EcallSandbox(max_status_objects=LIMIT, delivery=None) as started:
        started.configure_delivery(delay=86_400)  # everything stays pending
        yield started


@pytest.fixture
def client(sandbox: EcallSandbox) -> Iterator[EcallClient]:
    with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as made:
        yield made


def _send(client: EcallClient, job: str, recipients: int = 1) -> None:
    numbers = [f"+4179{n:07d}" for n in range(recipients)]
    client.send(SmsMessage(address=numbers, message="x", job_id=job))


def _state(sandbox: EcallSandbox) -> list[dict[str, str]]:
    return [r.params for r in sandbox.requests if r.endpoint == "state"]


def _refusals(sandbox: EcallSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == "state" and r.result_code == 11701)


def test_windows_hold_at_most_the_limit_once_the_account_is_known(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    """Ours and other jobs' objects over ten minutes, all sent before the first round: that
    round knows only its own jobs and is refused and split; from then on eCall refuses none,
    and a round takes the windows the split taught it (at most twice the floor)."""
    start = sandbox.now()
    wants = []
    for n in range(60):
        _send(client, f"ours-{n}", recipients=1 + n % 3)
        wants.append(Want(f"ours-{n}", start, sandbox.now()))
        if n % 2:
            _send(client, f"other-{n}")  # an alert, another DAG: not waited for
        sandbox.travel(10)
    objects = sum(1 + n % 3 for n in range(60)) + 30
    planner = QueryPlanner(limit=LIMIT)

    answers: list[Answer] = []
    for _ in range(3):
        before = len(_state(sandbox)), _refusals(sandbox)
        answers.append(planner.run(client, wants, sandbox.now()))
        queries, refused = len(_state(sandbox)) - before[0], _refusals(sandbox) - before[1]
        sandbox.travel(5)

    for answer in answers:
        assert sorted(answer.records) == sorted(w.job_id for w in wants)  # none lost
        assert sum(len(r) for r in answer.records.values()) == objects - 30
    assert (answers[-1].refused, refused) == (0, 0)
    assert answers[-1].by_job == 0
    assert answers[0].refused >= 1
    assert queries <= 2 * math.ceil(objects / LIMIT)


def test_a_few_waits_among_much_other_traffic_ask_by_job_id(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    """Three waits spread over a day of an account's other traffic: once the planner has
    seen how full the day is, three JobID queries beat a dozen windows."""
    start = sandbox.now()
    wants = []
    for n in range(240):
        _send(client, f"other-{n}")
        if n % 80 == 40:
            _send(client, f"ours-{n}")
            wants.append(Want(f"ours-{n}", start - timedelta(hours=1), sandbox.now()))
        sandbox.travel(360)
    planner = QueryPlanner(limit=LIMIT)

    first = planner.run(client, wants, sandbox.now())
    before = len(_state(sandbox))
    second = planner.run(client, wants, sandbox.now())

    assert first.refused >= 1  # it knew only its own three jobs; the split answered it
    assert len(first.records) == 3
    assert (second.windows, second.by_job, second.refused) == (0, 3, 0)
    assert [q.get("JobID") for q in _state(sandbox)[before:]] == [w.job_id for w in wants]
    assert len(second.records) == 3


def test_a_job_sent_before_its_sent_after_is_found_by_job_id(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    """A wait that says its job came later than it did: the windows miss it, the planner
    asks by JobID the next round and from then on; the wait still gets its answer."""
    _send(client, "early")
    sandbox.travel(3600)
    start = sandbox.now()
    wants = [Want("early", start, start)]
    for n in range(5):
        _send(client, f"late-{n}")
        wants.append(Want(f"late-{n}", start, sandbox.now()))
        sandbox.travel(10)
    planner = QueryPlanner(limit=LIMIT)

    found = [planner.run(client, wants, sandbox.now()) for _ in range(4)]

    assert "early" not in found[0].records
    assert all("early" in answer.records for answer in found[1:])
    assert [a.by_job for a in found] == [0, 1, 1, 1]
    assert all(len(answer.records) == 6 for answer in found[1:])


def test_jobs_without_sent_after_are_asked_by_job_id(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    for n in range(3):
        _send(client, f"loose-{n}")
    now = sandbox.now()
    wants = [Want(f"loose-{n}", None, now) for n in range(3)]

    answer = QueryPlanner(limit=LIMIT).run(client, wants, now)

    assert (answer.windows, answer.by_job, len(answer.records)) == (0, 3, 3)


def test_sends_that_keep_coming_are_not_refused(sandbox: EcallSandbox, client: EcallClient) -> None:
    """Waits join every round, a dozen jobs a round, some in the same second as the last
    query: what the planner counted for a stretch never hides what was sent after."""
    start = sandbox.now()
    planner = QueryPlanner(limit=LIMIT)
    wants: list[Want] = []
    refused = []
    for round_no in range(12):
        for n in range(12):
            _send(client, f"stream-{round_no}-{n}")
            wants.append(Want(f"stream-{round_no}-{n}", start, sandbox.now()))
            sandbox.travel(0.04)
        answer = planner.run(client, wants, sandbox.now())
        assert len(answer.records) == len(wants)
        refused.append(answer.refused)
        sandbox.travel(0.3)

    assert refused[1:] == [0] * 11


class _BusyAccount(EcallClient):
    """A client of an account where jobs keep arriving while a round runs: 0.3 s into each
    round, before its first ``Api/State`` query, the jobs in ``arriving`` are sent
    (by waits that have not joined yet, or by other DAGs) — after the planner planned,
    before eCall answered."""

    sandbox: EcallSandbox
    arriving: list[str]

    def get_status(self, **query: Any) -> tuple[StatusRecord, ...]:
        if self.arriving:
            self.sandbox.travel(0.3)
        while self.arriving:
            _send(self, self.arriving.pop())
        return super().get_status(**query)


def test_jobs_sent_while_a_round_runs_are_not_refused(sandbox: EcallSandbox) -> None:
    """Every two seconds five jobs are sent and joined, and six more are sent while the
    round runs (their waits join the round after): the open window is asked first and keeps
    room for them, learned from the answers, so that after the first rounds eCall refuses
    none (the planner that filled it to the limit was refused 104 times in rounds 4 to 16)."""
    start = sandbox.now()
    planner = QueryPlanner(limit=LIMIT)
    wants: list[Want] = []
    refused = []
    with _BusyAccount(sandbox.base_url, sandbox.username, sandbox.password) as client:
        client.sandbox = sandbox
        for round_no in range(16):
            sandbox.travel(2.05 - sandbox.now().microsecond / 1e6)  # at .05 s of a second
            for n in range(5):
                _send(client, f"now-{round_no}-{n}")
                wants.append(Want(f"now-{round_no}-{n}", start, sandbox.now()))
            late = [f"late-{round_no}-{n}" for n in range(6)]
            client.arriving = list(late)
            answer = planner.run(client, wants, sandbox.now())
            assert len(answer.records) == len(wants)
            refused.append(answer.refused)
            wants += [Want(job, start, sandbox.now()) for job in late]

    assert refused[3:] == [0] * 13


def test_a_second_holding_more_than_the_limit_is_refused_once(
    sandbox: EcallSandbox, client: EcallClient
) -> None:
    """One send in batches (three jobs of ten recipients in one second: more objects than
    eCall answers for any window holding that second) among jobs sent over a minute, all
    waited for, none sent later (steady state): the first round finds the second by the
    fallback and asks its jobs by JobID; from then on no window holds it and eCall refuses
    none — those jobs by JobID, the others in windows, every record found every round."""
    start = sandbox.now()
    wants = []
    for n in range(12):
        _send(client, f"spread-{n}", recipients=2)
        wants.append(Want(f"spread-{n}", start, sandbox.now()))
        sandbox.travel(5)
        if n == 6:
            sandbox.travel(1.05 - sandbox.now().microsecond / 1e6)  # early in a second
            for batch in range(3):
                _send(client, f"batch-{batch}", recipients=10)
                wants.append(Want(f"batch-{batch}", start, sandbox.now()))
            sandbox.travel(5)
    planner = QueryPlanner(limit=LIMIT)

    answers = []
    for _ in range(5):
        answers.append(planner.run(client, wants, sandbox.now()))
        sandbox.travel(2)

    assert answers[0].refused >= 1
    assert [a.refused for a in answers[1:]] == [0, 0, 0, 0]
    for answer in answers:
        assert sorted(answer.records) == sorted(w.job_id for w in wants)  # none lost
        assert sum(len(r) for r in answer.records.values()) == 12 * 2 + 3 * 10
    assert answers[-1].by_job == 3
