"""EcallDeliveryTrigger on a real event loop against the sandbox: events, one shared poller
per connection, backoff, errors, restarts from kwargs, and an event loop that never blocks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_ecall.client import EcallClient, SmsMessage
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.sandbox.pytest_plugin import CONNECTION_ENV
from airflow_provider_ecall.triggers import _poller
from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger

pytestmark = pytest.mark.compat(feature="Delivery: EcallDeliveryTrigger, one shared poller")

PHONE, OTHER = "+41791112233", "+41791112244"
FAST = 0.05


def _send(sandbox: EcallSandbox, job: str, *numbers: str) -> None:
    with EcallClient(sandbox.base_url, sandbox.username, sandbox.password) as client:
        client.send(SmsMessage(address=list(numbers) or [PHONE], message="hi", job_id=job))


def _trigger(jobs: Sequence[str], **kwargs: Any) -> EcallDeliveryTrigger:
    kwargs.setdefault("poll_interval", FAST)
    kwargs.setdefault("deadline", (datetime.now(timezone.utc) + timedelta(seconds=30)).isoformat())
    return EcallDeliveryTrigger(job_ids=list(jobs), **kwargs)


async def _first_event(trigger: EcallDeliveryTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def _run(*triggers: EcallDeliveryTrigger) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_first_event(t) for t in triggers)))

    return asyncio.run(main())


def _state_requests(sandbox: EcallSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == "state")


def test_serializes_to_its_public_path_and_rebuilds_from_kwargs() -> None:
    trigger = _trigger(["a", "b"], require="final", sent_after="2026-11-27T09:00:00+00:00")

    path, kwargs = trigger.serialize()
    again = EcallDeliveryTrigger(**json.loads(json.dumps(kwargs)))

    assert path == "airflow_provider_ecall.triggers.ecall.EcallDeliveryTrigger"
    assert again.serialize() == (path, kwargs)
    with pytest.raises(ValueError, match="require"):
        EcallDeliveryTrigger(job_ids=["a"], require="read")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="job_ids"):
        EcallDeliveryTrigger(job_ids=[])


@pytest.mark.ecall_delivery(delay=0.2, failing=[OTHER])
def test_events_say_delivered_failed_or_final(ecall_sandbox_connection: EcallSandbox) -> None:
    _send(ecall_sandbox_connection, "ok", PHONE)
    _send(ecall_sandbox_connection, "mixed", PHONE, OTHER)

    ok, failed, final = _run(
        _trigger(["ok"]), _trigger(["ok", "mixed"]), _trigger(["mixed"], require="final")
    )

    assert (ok["status"], failed["status"], final["status"]) == ("delivered", "failed", "final")
    assert [r["outcome"] for r in failed["report"]["recipients"]] == [
        "delivered",
        "delivered",
        "failed",
    ]
    assert PHONE not in json.dumps([ok, failed, final])
    assert failed["report"]["recipients"][2]["recipient"] == "+41******244"


@pytest.mark.ecall_delivery(delay=0, never=[PHONE])
def test_the_deadline_ends_a_wait_that_never_resolves(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    _send(ecall_sandbox_connection, "stuck")
    soon = (datetime.now(timezone.utc) + timedelta(seconds=0.5)).isoformat()

    [event] = _run(_trigger(["stuck", "ghost"], deadline=soon))

    assert event["status"] == "timeout"
    assert event["report"]["missing"] == ["ghost"]
    assert [r["status_code"] for r in event["report"]["recipients"]] == [9]


@pytest.mark.ecall_delivery(delay=0)
def test_many_waits_share_one_poller_and_one_request_per_round(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    sandbox = ecall_sandbox_connection
    since = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    sandbox.configure_delivery(delay=3600)  # pending while the triggers gather
    for n in range(30):
        _send(sandbox, f"many-{n}")

    async def main() -> tuple[list[dict[str, Any]], int]:
        triggers = [_trigger([f"many-{n}"], sent_after=since, poll_interval=0.2) for n in range(30)]
        tasks = [asyncio.create_task(_first_event(t)) for t in triggers]
        await asyncio.sleep(0.7)  # a few rounds while pending
        pollers = list(_poller._POLLERS[asyncio.get_running_loop()].values())
        sandbox.configure_delivery(delay=0)
        events = await asyncio.gather(*tasks)
        return events, len(pollers)

    before = _state_requests(sandbox)
    started = time.monotonic()
    events, pollers = asyncio.run(main())
    rounds = (time.monotonic() - started) / 0.2

    assert pollers == 1
    assert {e["status"] for e in events} == {"delivered"}
    # One window query per round for all 30 waits (never 30 per round).
    assert _state_requests(sandbox) - before <= rounds + 1
    assert _state_requests(sandbox) - before < 30


@pytest.mark.ecall_delivery(delay=0, never=[OTHER])
def test_a_new_wait_gets_its_first_answer_soon_not_an_interval_later(
    ecall_sandbox_connection: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = ecall_sandbox_connection
    monkeypatch.setattr(_poller, "FIRST_LOOK_GAP", 0.3)
    _send(sandbox, "pending", OTHER)
    _send(sandbox, "done-before-the-wait", PHONE)
    now = datetime.now(timezone.utc)
    soon, since = (now + timedelta(seconds=2)).isoformat(), (now - timedelta(1)).isoformat()
    before = _state_requests(sandbox)

    async def main() -> list[dict[str, Any]]:
        # An hourly wait that stays pending; then, while it waits, one on a delivered job.
        hourly = {"poll_interval": 3600, "sent_after": since}
        waiting = asyncio.create_task(_first_event(_trigger(["pending"], deadline=soon, **hourly)))
        await asyncio.sleep(0.1)
        joining = _trigger(["done-before-the-wait"], **hourly)
        return list(await asyncio.gather(waiting, _first_event(joining)))

    pending, done = asyncio.run(main())

    assert done["status"] == "delivered"
    assert pending["status"] == "timeout"
    # The first wait's first look, then one (a window) for the wait that joined.
    assert _state_requests(sandbox) - before == 2


@pytest.mark.ecall_delivery(delay=0)
def test_without_sharing_each_wait_asks_for_itself(ecall_sandbox_connection: EcallSandbox) -> None:
    for n in range(5):
        _send(ecall_sandbox_connection, f"own-{n}")
    before = _state_requests(ecall_sandbox_connection)

    events = _run(*(_trigger([f"own-{n}"], share_poller=False) for n in range(5)))

    assert {e["status"] for e in events} == {"delivered"}
    # Each wait asks at least once for itself (shared, the five would make one query); its
    # planner may ask once more by JobID when its first window ended in the second of the send.
    assert 5 <= _state_requests(ecall_sandbox_connection) - before <= 10


@pytest.mark.ecall_delivery(delay=0)
def test_passing_failures_back_off_and_the_wait_goes_on(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    _send(ecall_sandbox_connection, "flaky")
    ecall_sandbox_connection.inject(endpoint="state", status=503, times=3)
    before = _state_requests(ecall_sandbox_connection)

    [event] = _run(_trigger(["flaky"]))

    assert event["status"] == "delivered"
    assert _state_requests(ecall_sandbox_connection) - before == 4


def test_refused_credentials_end_the_wait_with_an_error(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = {"conn_type": "ecall", "host": ecall_sandbox.base_url, "login": "x", "password": "no"}
    monkeypatch.setenv(CONNECTION_ENV, json.dumps(wrong))

    [event] = _run(_trigger(["any"]))

    assert event["status"] == "error"
    assert "EcallAuthError" in event["message"]
    assert "no" not in event["message"].split()


async def _until(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Wait on the running loop until ``condition()`` holds; ``limit`` only bounds a hang."""
    give_up = time.monotonic() + limit
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"not within {limit:.0f} s: {what}")
        await asyncio.sleep(0.01)


@pytest.mark.ecall_delivery(delay=0, never=[PHONE])
def test_a_restarted_trigger_picks_up_from_its_kwargs(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    sandbox = ecall_sandbox_connection
    _send(sandbox, "restart")
    trigger = _trigger(["restart"])
    before = _state_requests(sandbox)

    async def first_life() -> None:
        task = asyncio.create_task(_first_event(trigger))
        # Two answered rounds: the trigger saw "pending" (the number never resolves yet)
        # and went on waiting.
        await _until(lambda: _state_requests(sandbox) - before >= 2, "two status rounds")
        assert not task.done()
        pollers = _poller._POLLERS[asyncio.get_running_loop()]
        assert list(pollers) == ["ecall_default"]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _until(lambda: pollers == {}, "the poller forgets itself")  # nothing left behind

    asyncio.run(first_life())
    sandbox.configure_delivery(never=[])  # the phone comes back while no trigger runs
    _, kwargs = trigger.serialize()
    [event] = _run(EcallDeliveryTrigger(**json.loads(json.dumps(kwargs))))

    assert event["status"] == "delivered"
    assert [r["status_code"] for r in event["report"]["recipients"]] == [8]


@pytest.mark.ecall_delivery(delay=0)
def test_the_event_loop_keeps_running_while_a_query_waits(
    ecall_sandbox_connection: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status query holds until a coroutine on the trigger's event loop lets it go: had
    the query run on the loop, nothing could let it go and the wait would end in an error."""
    import threading

    from airflow_provider_ecall.triggers import _delivery

    _send(ecall_sandbox_connection, "slow")
    started, release = threading.Event(), threading.Event()
    real_fetch_for = _delivery._fetch_for

    def gated_fetch_for(conn_id: str) -> _poller.Fetch:
        fetch = real_fetch_for(conn_id)

        def gated(wants: Any, now: Any) -> Any:
            started.set()
            if not release.wait(10):
                raise RuntimeError("the event loop stood still while the status query waited")
            return fetch(wants, now)

        return gated

    monkeypatch.setattr(_delivery, "_fetch_for", gated_fetch_for)

    async def main() -> dict[str, Any]:
        waiting = asyncio.create_task(_first_event(_trigger(["slow"])))
        while not started.is_set():
            await asyncio.sleep(0.01)
        release.set()  # this line runs only while the query waits in its thread
        return await waiting

    event = asyncio.run(main())

    assert event["status"] == "delivered", event
