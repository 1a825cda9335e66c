"""A wait in a worker (the sensor's pokes, ``wait_for_delivery`` without deferring) plans
its ``Api/State`` queries as the triggerer's poller does: the one window from ``sent_after``
to now, refused (11701) and halved again at every poll, is gone once the planner has seen
the account."""

from __future__ import annotations

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.client.planner import QueryPlanner
from airflow_provider_ecall.delivery import wait
from airflow_provider_ecall.sandbox import EcallSandbox

LIMIT = 20


def test_polls_after_the_first_are_not_refused() -> None:
    with EcallSandbox(max_status_objects=LIMIT, delivery=None) as sandbox:
        sandbox.configure_delivery(delay=86_400)
        since = sandbox.now().isoformat()
        with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as client:
            for n in range(30):
                client.send(SmsMessage(address="+41790000001", message="x", job_id=f"ours-{n}"))
                client.send(SmsMessage(address="+41790000002", message="x", job_id=f"other-{n}"))
                sandbox.travel(20)
            jobs = [f"ours-{n}" for n in range(30)]
            planner = QueryPlanner(limit=LIMIT)
            refused = []
            for _ in range(3):
                before = _refusals(sandbox)
                report = wait.query_once(client, jobs, since, planner, now=sandbox.now())
                refused.append(_refusals(sandbox) - before)
                assert report is not None
                assert report.missing == ()
                sandbox.travel(5)

    assert refused[0] >= 1  # it knew only its own jobs
    assert refused[1:] == [0, 0]


def _refusals(sandbox: EcallSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == "state" and r.result_code == 11701)
