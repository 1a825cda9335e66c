"""An escalation chain that starts when a task fails: page, wait for ACK, call, next person.

``ack_escalation(after=critical_task, ...)`` adds the tasks to the DAG being defined, so the
chain runs in the failed task's own DAG run — a task's failure starts it with nothing to
trigger, and its texts can name the failure (``{{ dag.dag_id }}``, ``{{ run_id }}``)::

    settle = settle_payments()
    ack_escalation(after=settle, primary=ONCALL, second=BACKUP, callback=REPLY_NUMBER,
                   incident="settle_payments failed (run {{ run_id }})")

1. ``page_primary`` texts ``primary`` (trigger rule ``one_failed`` on ``after``: it runs when
   one of them failed and is skipped, with the whole chain, when they all succeeded). With
   ``page=False`` there is no such task: the failed task's own urgent SMS notifier is the
   page (it can carry the error), and the chain starts at the wait;
2. ``wait_for_ack`` waits for a reply from ``primary`` with one of ``words``;
3. ``call_primary`` rings them (``all_failed``: also when the wait itself broke), and
   ``wait_after_call`` waits half as long again;
4. ``page_second`` and ``call_second`` reach ``second``, when given.

The waits read only the replies sent to ``callback`` (``mobile_number``): an SMS to another
of the account's numbers never stands in their way. An unrelated SMS to that number does,
until an asset watcher with the same ``mobile_number`` takes it (docs/oncall.md).

Replies need a sender that can be answered: ``callback`` must be a number that routes
replies to the eCall account (a leased mobile number) or a template; an alphanumeric one is
refused here, when the DAG file is parsed — so is an SMS notifier of an ``after`` task
whose ``callback`` is. See docs/oncall.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.operators.ecall import EcallSmsOperator, EcallVoiceOperator
from airflow_provider_ecall.sensors.ecall import (
    EcallReplySensor,
    sms_senders,
    unanswerable_sender,
)

if TYPE_CHECKING:
    from airflow_provider_ecall.utils.compat import BaseOperator

__all__ = ["ack_escalation"]


def _check_sender(callback: object, where: str) -> None:
    """Refuse a sender nobody can reply to (a template is checked when the wait runs)."""
    literal = not isinstance(callback, str) or "{{" not in callback
    if literal and unanswerable_sender(callback):
        raise EcallValidationError(
            "callback",
            f"{callback!r} ({where}) cannot be answered: an escalation waits for a reply, so "
            "its SMS needs a number that routes replies to your eCall account (a leased "
            "mobile number), not an alphanumeric sender or none",
        )


def _check_notifiers(after: Sequence[BaseOperator]) -> None:
    """Check the sender of every SMS notifier in the ``on_failure_callback`` of ``after``."""
    for task in after:
        for notifier in sms_senders(task):
            sender = getattr(notifier, "callback", None)
            if sender is not None:  # None: the connection's default_callback, checked at run
                _check_sender(sender, f"the SMS notifier of task {task.task_id}")


def ack_escalation(
    *,
    primary: str,
    callback: str,
    incident: str,
    after: BaseOperator | Sequence[BaseOperator] = (),
    second: str | None = None,
    words: Sequence[str] = ("ACK",),
    timeout: timedelta | float = timedelta(minutes=10),
    poll_interval: float = 30.0,
    language: str = "EN",
    page: bool = True,
    ecall_conn_id: str = "ecall_default",
) -> list[BaseOperator]:
    """Add an acknowledge-or-be-called chain to the DAG being defined.

    :param primary: the on-call engineer's number. (templated)
    :param callback: the SMS sender: a number replies reach (refused at parse when
        alphanumeric). (templated)
    :param incident: what happened, in every text. (templated)
    :param after: the tasks (or ``@task`` calls) whose failure starts the chain; none: it
        always runs.
    :param second: the next person's number, or None to stop after the call.
    :param words: the replies that acknowledge (any case).
    :param timeout: the first wait; the wait after the call is half of it.
    :param poll_interval: seconds between polls of an empty inbound cache.
    :param language: the voice calls' language.
    :param page: send ``page_primary``; False when the failed tasks' own SMS notifier
        pages (its ``callback`` must then be answerable too).
    :param ecall_conn_id: the ``ecall`` connection.
    :return: the chain's tasks, in order.
    :raises EcallValidationError: ``callback``, or that of an SMS notifier of ``after``, is
        alphanumeric or blank.
    """
    given = list(after) if isinstance(after, Sequence) else [after]
    upstream = [getattr(task, "operator", task) for task in given]  # a @task call's XComArg
    _check_sender(callback, "ack_escalation")
    _check_notifiers(upstream)
    wait = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
    written = "Reply " + " or ".join(word.upper() for word in words)
    said = "Reply " + " or ".join(" ".join(word.upper()) for word in words)  # spelt out

    def sms(task_id: str, to: str, text: str, rule: str = "all_success") -> EcallSmsOperator:
        return EcallSmsOperator(
            task_id=task_id, address=to, message=text, callback=callback,
            ecall_conn_id=ecall_conn_id, trigger_rule=rule,
        )  # fmt: skip

    def call(task_id: str, to: str, text: str, rule: str = "all_success") -> EcallVoiceOperator:
        return EcallVoiceOperator(
            task_id=task_id, address=to, message=text, language=language,
            ecall_conn_id=ecall_conn_id, trigger_rule=rule,
        )  # fmt: skip

    def ack(task_id: str, within: timedelta) -> EcallReplySensor:
        return EcallReplySensor(
            task_id=task_id, from_numbers=primary, words=words, timeout=within,
            mobile_number=callback, poll_interval=poll_interval, ecall_conn_id=ecall_conn_id,
        )  # fmt: skip

    chain: list[BaseOperator] = []
    if page:
        chain.append(sms("page_primary", primary, f"ALERT: {incident}. {written} to take it."))
    chain += [
        ack("wait_for_ack", wait),
        call("call_primary", primary, f"Airflow alert: {incident}. {said} by SMS to take it.",
             "all_failed"),
        ack("wait_after_call", wait / 2),
    ]  # fmt: skip
    if second is not None:
        chain += [
            sms("page_second", second,
                f"ALERT, not acknowledged by the on-call engineer: {incident}.",
                "all_failed"),
            call("call_second", second, f"Airflow alert, not acknowledged: {incident}."),
        ]  # fmt: skip
    chain[0].trigger_rule = "one_failed" if upstream else "all_success"  # type: ignore[assignment]
    for earlier, later in pairwise(chain):
        earlier >> later
    for failed in upstream:
        failed >> chain[0]
    return chain
