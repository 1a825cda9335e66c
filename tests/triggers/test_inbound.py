"""The inbound-SMS triggers against a real sandbox, driven as the triggerer drives them.

Each test runs in its own event loop, so each gets its own hub (one per connection and loop).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_ecall.client import EcallClient
from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.triggers.ecall import EcallInboundSmsTrigger, EcallReplyTrigger
from airflow_provider_ecall.triggers.replies import number_digest
from tests.triggers.conftest import Runner, settle

pytestmark = pytest.mark.usefixtures("ecall_sandbox_connection")

SENDER = "+41791112233"
OTHER = "+41795556677"
LEASED = "+41790000000"


def _deletes(sandbox: EcallSandbox) -> list[str]:
    return [
        r.params["MessageID"]
        for r in sandbox.requests
        if r.endpoint == "cache_delete" and r.status == 200
    ]


def _gets_with_message(sandbox: EcallSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.endpoint == "cache_get" and r.result_code == 0)


def _waiter(
    *, seconds: float = 10.0, since_minutes: float = 5.0, **kwargs: object
) -> EcallReplyTrigger:
    now = datetime.now(timezone.utc)
    options: dict[str, object] = {
        "sender_digests": [number_digest(SENDER)],
        "words": ["ACK"],
        "since": (now - timedelta(minutes=since_minutes)).isoformat(),
        "deadline": (now + timedelta(seconds=seconds)).isoformat(),
        "poll_interval": 1.0,
        **kwargs,
    }
    return EcallReplyTrigger(**options)  # type: ignore[arg-type]


def _inbound(sandbox: EcallSandbox, message: str, sender: str = SENDER) -> str:
    return sandbox.add_inbound(address_from=sender, address_to=LEASED, message=message)


def test_the_watcher_emits_each_message_once_in_order_then_deletes_it(
    ecall_sandbox: EcallSandbox,
) -> None:
    ids = [_inbound(ecall_sandbox, f"reply {n}") for n in range(3)]

    async def main() -> list[object]:
        async with Runner(EcallInboundSmsTrigger(poll_interval=1).run()) as runner:
            events = await runner.wait_for(3)
            await settle(lambda: len(_deletes(ecall_sandbox)) == 3)
            await asyncio.sleep(0.2)
            return list(events)

    events = asyncio.run(main())
    payloads = [event.payload for event in events]  # type: ignore[attr-defined]
    assert [p["message_id"] for p in payloads] == ids
    assert _deletes(ecall_sandbox) == ids
    assert payloads[0]["address_from"] == SENDER  # whole in the event: it is the record
    assert payloads[0]["address_to"] == LEASED
    assert payloads[0]["message"] == "reply 0"
    assert payloads[0]["timestamp"]
    shown = repr(events[0]) + str(events[0])
    assert SENDER not in shown
    assert LEASED not in shown
    assert "+41******233" in shown


def test_a_watcher_closed_at_its_yield_leaves_the_message_cached(
    ecall_sandbox: EcallSandbox, client: EcallClient
) -> None:
    message_id = _inbound(ecall_sandbox, "ACK")

    async def main() -> None:
        stream = EcallInboundSmsTrigger(poll_interval=1).run()
        event = await asyncio.wait_for(anext(stream), 10)  # the triggerer took it, then died
        assert event.payload["message_id"] == message_id
        await stream.aclose()

    asyncio.run(main())
    assert _deletes(ecall_sandbox) == []
    found = client.get_next_inbound()
    assert found is not None
    assert found.message_id == message_id


def test_a_watcher_and_a_waiting_task_share_one_drain_and_both_see_the_reply(
    ecall_sandbox: EcallSandbox,
) -> None:
    _inbound(ecall_sandbox, "hello?", sender=OTHER)
    ack = _inbound(ecall_sandbox, "ack, on my way")

    async def main() -> tuple[list[object], list[object]]:
        async with (
            Runner(EcallInboundSmsTrigger(poll_interval=1).run()) as watcher,
            Runner(_waiter().run()) as waiter,
        ):
            await watcher.wait_for(2)
            await waiter.wait_for(1)
            await settle(lambda: len(_deletes(ecall_sandbox)) == 2)
            return list(watcher.events), list(waiter.events)

    watched, waited = asyncio.run(main())
    assert len(watched) == 2
    [reply] = waited
    assert reply.payload == {  # type: ignore[attr-defined]
        "status": "reply",
        "message_id": ack,
        "sender": "+41******233",
        "sender_index": 0,
        "message": "ack, on my way",
        "timestamp": reply.payload["timestamp"],  # type: ignore[attr-defined]
    }
    assert _gets_with_message(ecall_sandbox) == 2  # each message read once, by one consumer


def test_a_task_that_starts_waiting_late_still_sees_a_reply_already_drained(
    ecall_sandbox: EcallSandbox,
) -> None:
    ack = _inbound(ecall_sandbox, "ACK")

    async def main() -> list[object]:
        async with Runner(EcallInboundSmsTrigger(poll_interval=1).run()) as watcher:
            await watcher.wait_for(1)
            await settle(lambda: _deletes(ecall_sandbox) == [ack])
            async with Runner(_waiter().run()) as waiter:
                return list(await waiter.wait_for(1))

    [event] = asyncio.run(main())
    assert event.payload["message_id"] == ack  # type: ignore[attr-defined]


def test_a_waiting_task_alone_leaves_a_foreign_message_and_times_out(
    ecall_sandbox: EcallSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    _inbound(ecall_sandbox, "hello?", sender=OTHER)
    _inbound(ecall_sandbox, "ACK")  # behind the head: unseen until the head is taken

    async def main() -> list[object]:
        async with Runner(_waiter(seconds=2.5).run()) as waiter:
            return list(await waiter.wait_for(1))

    with caplog.at_level(logging.WARNING):
        [event] = asyncio.run(main())
    assert event.payload["status"] == "timeout"  # type: ignore[attr-defined]
    assert _deletes(ecall_sandbox) == []  # nothing lost: both still cached
    [warning] = [r.getMessage() for r in caplog.records if "wanted by no" in r.getMessage()]
    assert "+41******677" in warning
    assert OTHER not in caplog.text


def test_old_replies_and_other_words_do_not_count(ecall_sandbox: EcallSandbox) -> None:
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    ecall_sandbox.add_inbound(address_from=SENDER, address_to=LEASED, message="ACK", timestamp=old)
    _inbound(ecall_sandbox, "back soon")

    async def main() -> list[object]:
        async with (
            Runner(EcallInboundSmsTrigger(poll_interval=1).run()) as watcher,
            Runner(_waiter(seconds=2).run()) as waiter,
        ):
            await watcher.wait_for(2)
            return list(await waiter.wait_for(1))

    [event] = asyncio.run(main())
    assert event.payload["status"] == "timeout"  # type: ignore[attr-defined]


def test_a_failing_cache_is_retried_and_nothing_is_lost(ecall_sandbox: EcallSandbox) -> None:
    ack = _inbound(ecall_sandbox, "ACK")
    ecall_sandbox.inject(endpoint="cache_get", status=500, times=1)
    ecall_sandbox.inject(endpoint="cache_delete", status=503, times=1)

    async def main() -> list[object]:
        async with Runner(EcallInboundSmsTrigger(poll_interval=1).run()) as watcher:
            await watcher.wait_for(1)
            await settle(lambda: _deletes(ecall_sandbox) == [ack], timeout=15)
            await asyncio.sleep(1.2)  # one more poll: the message must not come again
            return list(watcher.events)

    events = asyncio.run(main())
    assert [e.payload["message_id"] for e in events] == [ack]  # type: ignore[attr-defined]


def test_a_second_consumer_is_noticed_and_logged(
    ecall_sandbox: EcallSandbox, client: EcallClient, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = _inbound(ecall_sandbox, "hello?", sender=OTHER)

    async def main() -> None:
        async with Runner(_waiter(seconds=30).run()) as waiter:
            await settle(lambda: any("wanted by no" in r.getMessage() for r in caplog.records))
            client.delete_inbound(foreign)  # someone else takes the head...
            ecall_sandbox.inject(endpoint="cache_delete", status=400, result_code=11501)
            _inbound(ecall_sandbox, "ACK")  # ...and the hub's own delete finds it gone
            await waiter.wait_for(1, timeout=15)
            await settle(lambda: any(r.result_code == 11501 for r in ecall_sandbox.requests))
            await asyncio.sleep(0.2)

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    text = caplog.text
    assert "left in the cache is gone, deleted by another consumer" in text
    assert "was deleted by another consumer before us" in text


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"poll_interval": 0.1}, "poll_interval"),
        ({"mobile_number": "12"}, "mobile_number"),
    ],
)
def test_bad_arguments_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(EcallValidationError) as caught:
        EcallInboundSmsTrigger(**options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_triggers_serialize_to_their_public_path_and_back() -> None:
    trigger = EcallInboundSmsTrigger(ecall_conn_id="sms_in", mobile_number="0041 79 000 00 00")
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_ecall.triggers.ecall.EcallInboundSmsTrigger"
    assert kwargs == {
        "ecall_conn_id": "sms_in",
        "mobile_number": "0041790000000",
        "poll_interval": 30.0,
    }
    assert EcallInboundSmsTrigger(**kwargs).serialize() == (path, kwargs)
    waiter_path, waiter_kwargs = _waiter().serialize()
    assert waiter_path.endswith("triggers.ecall.EcallReplyTrigger")
    assert SENDER not in repr(waiter_kwargs)  # only digests are stored
    assert EcallReplyTrigger(**waiter_kwargs).serialize() == (waiter_path, waiter_kwargs)


def test_the_watchers_event_travels_to_the_triggerer_supervisor_whole() -> None:
    """The event class masks its repr only: Airflow's own message from the trigger runner to
    its supervisor (pydantic, warnings as errors) carries the payload unchanged."""
    import warnings

    from airflow.jobs.triggerer_job_runner import TriggerEventEntry, messages

    from airflow_provider_ecall.triggers.inbound import ReplyEvent
    from airflow_provider_ecall.triggers.replies import InboundReply

    reply = InboundReply("m1", "ACK", SENDER, LEASED, datetime.now(timezone.utc))
    event = ReplyEvent(payload=reply.to_payload())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entry = TriggerEventEntry(trigger_id=1, event=event, persist_seq=None)
        sent = messages.TriggerStateChanges(events=[entry]).model_dump(mode="json")
        received = messages.TriggerStateChanges.model_validate(sent)
    assert received.events is not None
    assert received.events[0].event.payload == reply.to_payload()
    assert SENDER not in repr(event)


def test_the_connection_is_read_off_the_event_loop_thread(ecall_sandbox: EcallSandbox) -> None:
    """Airflow 3's triggerer refuses a synchronous SDK call (reading a connection) made on
    the event loop's thread from a task without a greenback portal, as the hub's own task
    is; from another thread it is served. So the hub must build its client in a thread."""
    import threading

    from airflow_provider_ecall.triggers._hub import HubKey, hub_for

    threads: list[int] = []

    def factory() -> EcallClient:
        threads.append(threading.get_ident())
        return EcallClient(ecall_sandbox.base_url, ecall_sandbox.username, ecall_sandbox.password)

    async def main() -> int:
        hub = hub_for(HubKey("threads"), factory, 1.0)
        async with hub.subscribe(takes_all=True):
            await settle(lambda: bool(threads))
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert threads
    assert loop_thread not in threads
