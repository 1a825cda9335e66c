"""Property: whatever the send times, recipient counts, other traffic of the account and
clock skew, the shared poller's planner hands every wait its verdict — none early, none
lost — against the sandbox, which refuses windows of more than ``LIMIT`` objects as eCall
refuses more than 1,000 (11701).

Each example is a timeline of rounds on the sandbox's clock (moved, not waited for): jobs are
sent (some by "other DAGs", not waited for), waits join a while after their job was sent and
know its send time well, roughly or not at all, jobs turn final at random rounds, and after
every round each wait's records are held against eCall's answer for its JobID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.client.delivery import DeliveryReport
from airflow_provider_ecall.client.planner import QueryPlanner, Want
from airflow_provider_ecall.sandbox import EcallSandbox

LIMIT = 8
ROUNDS = 6
#: Rounds a wait may take to get a verdict after its jobs turned final: one, or two when its
#: window missed it and it is asked by JobID.
GRACE = 2


@dataclass(frozen=True)
class Job:
    recipients: int
    gap: float  # seconds of the sandbox's clock before it is sent
    sent_in: int  # the round before which it is sent
    final_in: int  # rounds after its send when it turns final
    failed: bool
    waited: bool  # False: another DAG's job, nobody here waits for it
    joins_after: int  # rounds after its send when its wait joins
    knows: str  # what its wait knows of the send time: "send", "run" or "nothing"


jobs = st.builds(
    Job,
    recipients=st.integers(1, 4),
    gap=st.sampled_from([0.0, 0.3, 1.0, 7.0, 60.0, 900.0]),
    sent_in=st.integers(0, ROUNDS - 2),
    final_in=st.integers(0, 3),
    failed=st.booleans(),
    waited=st.booleans(),
    joins_after=st.integers(0, 1),
    knows=st.sampled_from(["send", "send", "run", "nothing"]),
)


@dataclass
class Wait:
    job_id: str
    want: Want
    verdict: str = "waiting"
    final_since: int | None = None


def _numbers(job: Job, index: int) -> list[str]:
    return [f"+41790{index:03d}{n:03d}" for n in range(job.recipients)]


@settings(max_examples=30, deadline=None)
@given(
    timeline=st.lists(jobs, min_size=1, max_size=24),
    skew=st.floats(-5.0, 5.0),
    interval=st.sampled_from([1.0, 30.0, 300.0]),
)
def test_every_wait_gets_its_verdict_none_early_none_lost(
    timeline: list[Job], skew: float, interval: float
) -> None:
    with EcallSandbox(max_status_objects=LIMIT) as sandbox:
        sandbox.configure_delivery(delay=86_400)  # pending until the timeline says otherwise
        with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as client:
            _play(sandbox, client, timeline, timedelta(seconds=skew), interval)


def _play(
    sandbox: EcallSandbox,
    client: EcallClient,
    timeline: list[Job],
    skew: timedelta,
    interval: float,
) -> None:
    planner = QueryPlanner(limit=LIMIT)
    run_start = sandbox.now() + skew
    sent: dict[str, tuple[int, Job]] = {}
    waits: list[Wait] = []
    last = ROUNDS + 3 + GRACE  # rounds enough for the last job to turn final and be seen
    for round_no in range(last):
        for index, job in enumerate(timeline):
            job_id = f"job-{index}"
            if job.sent_in == round_no:
                sandbox.travel(job.gap)
                before = sandbox.now() + skew - timedelta(seconds=0.5)
                client.send(SmsMessage(address=_numbers(job, index), message="x", job_id=job_id))
                sent[job_id] = (round_no, job)
                if job.waited:
                    waits.append(_wait(job_id, job, before, run_start))
            if job_id in sent and sent[job_id][0] + job.final_in == round_no:
                code, text = (2, "Error") if job.failed else (8, "Delivered")
                sandbox.set_status(job_id, code, text)
        joined = [w for w in waits if _joins_now(w, sent, round_no)]
        for wait in joined:
            wait.want = Want(wait.job_id, wait.want.sent_after, sandbox.now() + skew)
        active = [w for w in waits if w.verdict == "waiting" and _has_joined(w, sent, round_no)]
        answer = planner.run(client, [w.want for w in active], sandbox.now() + skew)
        for wait in active:
            _check(client, wait, answer.records, round_no)
        sandbox.travel(interval)
    assert [w.job_id for w in waits if w.verdict == "waiting"] == []  # none lost


def _wait(job_id: str, job: Job, before: object, run_start: object) -> Wait:
    sent_after = {"send": before, "run": run_start, "nothing": None}[job.knows]
    return Wait(job_id, Want(job_id, sent_after, before))  # type: ignore[arg-type]


def _has_joined(wait: Wait, sent: dict[str, tuple[int, Job]], round_no: int) -> bool:
    sent_in, job = sent[wait.job_id]
    return round_no >= sent_in + job.joins_after


def _joins_now(wait: Wait, sent: dict[str, tuple[int, Job]], round_no: int) -> bool:
    sent_in, job = sent[wait.job_id]
    return round_no == sent_in + job.joins_after


def _check(client: EcallClient, wait: Wait, records: object, round_no: int) -> None:
    truth = DeliveryReport.build(
        [wait.job_id], {wait.job_id: client.get_status(job_id=wait.job_id)}
    )
    got = DeliveryReport.build([wait.job_id], records)  # type: ignore[arg-type]
    if got.recipients:  # a job eCall listed is listed whole: every recipient, as eCall has it
        assert sorted(got.to_dict()["recipients"], key=str) == sorted(
            truth.to_dict()["recipients"], key=str
        )
    verdict = got.verdict("delivered")
    if verdict != "waiting":  # never early: only what eCall's own records say
        assert verdict == truth.verdict("delivered")
        wait.verdict = verdict
        return
    if truth.verdict("delivered") != "waiting":
        wait.final_since = round_no if wait.final_since is None else wait.final_since
        assert round_no - wait.final_since < GRACE, f"{wait.job_id} final, yet not seen"
