"""One client, one hook, one notifier shared by 32 threads: every send arrives exactly once,
with its own fields, and nothing else arrives.

Loopback only; each test is bounded by a timeout far above its usual run time (a few s).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from airflow_provider_ecall.client import EcallClient, SendResult, SmsMessage
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.concurrency.conftest import THREADS
from tests.contexts import failure_context

SENDS = 2000
ALERTS = 256
_T = TypeVar("_T")


def number(index: int) -> str:
    return f"+4179{index:07d}"


def in_threads(work: Callable[[int], _T], count: int) -> list[_T]:
    """Run ``work(0..count-1)`` on ``THREADS`` threads; re-raise the first error."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(work, range(count)))


def assert_each_send_arrived_once(sandbox: EcallSandbox, results: list[SendResult]) -> None:
    received = sandbox.messages_of("sms")
    assert len(received) == SENDS
    assert len(sandbox.requests) == SENDS  # no resends, no stray requests
    job_ids = [message.job_id for message in received]
    assert len(set(job_ids)) == SENDS
    assert set(job_ids) == {result.job_id for result in results}
    for message in received:  # no field of one send inside another
        index = int(message.message.removeprefix("send "))
        assert message.addresses == (number(index),)
    assert sorted(int(m.message.removeprefix("send ")) for m in received) == list(range(SENDS))


@pytest.fixture
def shared_client(ecall_sandbox: EcallSandbox) -> Iterator[EcallClient]:
    with EcallClient(
        ecall_sandbox.base_url, ecall_sandbox.username, ecall_sandbox.password, timeout=10
    ) as client:
        yield client


@pytest.mark.timeout(120)
def test_one_client_32_threads_2000_sms(
    shared_client: EcallClient, ecall_sandbox: EcallSandbox
) -> None:
    def send(index: int) -> SendResult:
        return shared_client.send(SmsMessage(address=number(index), message=f"send {index}"))

    assert_each_send_arrived_once(ecall_sandbox, in_threads(send, SENDS))


@pytest.mark.timeout(120)
def test_one_hook_32_threads_2000_sms(ecall_sandbox_connection: EcallSandbox) -> None:
    from airflow_provider_ecall.hooks.ecall import EcallHook

    hook = EcallHook()

    def send(index: int) -> SendResult:
        return hook.send_sms(address=number(index), message=f"send {index}")

    assert_each_send_arrived_once(ecall_sandbox_connection, in_threads(send, SENDS))


#: Every place an alert text names its task's index: task id, run id, table, shard.
INDEX_MARKS = re.compile(r"load_(\d+)|:00_(\d+)|table_(\d+)|shard (\d+)")


def named_index(text: str) -> int:
    """The one task index an alert text names (every mark in it must agree)."""
    found = {int(next(g for g in match.groups() if g)) for match in INDEX_MARKS.finditer(text)}
    assert len(found) == 1, f"cross-talk or no marks in {text!r}"
    return found.pop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("templated", [True, False], ids=["template", "default-text"])
def test_one_notifier_32_threads_no_cross_talk(
    ecall_sandbox_connection: EcallSandbox, templated: bool
) -> None:
    from airflow.sdk import DAG

    from airflow_provider_ecall.notifications.ecall import EcallSmsNotifier

    template = (
        "{{ ti.task_id }} failed in {{ run_id }} (try {{ ti.try_number }}, "
        "{{ params.table }}): {{ exception }}"
    )
    notifier = EcallSmsNotifier(address="+41791112233", message=template if templated else None)
    dag = DAG("shared_alerts", schedule=None)
    contexts = [failure_context(dag, index) for index in range(ALERTS)]

    in_threads(lambda index: notifier(contexts[index]), ALERTS)

    received = ecall_sandbox_connection.messages_of("sms")
    assert len(received) == ALERTS
    indexes = [named_index(message.message) for message in received]
    assert sorted(indexes) == list(range(ALERTS))
    for message, index in zip(received, indexes, strict=True):
        assert str(contexts[index]["exception"]) in message.message
        assert str(contexts[index]["run_id"]) in message.message
    assert notifier.message == (template if templated else None)  # the original is untouched
