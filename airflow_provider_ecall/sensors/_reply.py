"""``EcallReplySensor``: a task that waits, deferred, for an SMS reply.

It never reads the cache itself: its trigger joins the triggerer's one drain per connection
(see ``docs/replies.md``), so a waiting task and an asset watcher never take each other's
replies. There is no poke mode on purpose — a worker polling the cache would be a second
consumer of a destructive queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.utils.compat import (
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
    Context,
    require_airflow,
)

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

#: Extra time Airflow gives the deferral beyond the trigger's own deadline, so the trigger's
#: clear "no reply" event normally wins over Airflow's generic deferral timeout.
DEFERRAL_GRACE: Final = timedelta(minutes=5)


def _seconds(name: str, value: timedelta | float, *, low: float) -> timedelta:
    span = value if isinstance(value, timedelta) else None
    if span is None and isinstance(value, (int, float)) and not isinstance(value, bool):
        span = timedelta(seconds=value)
    if span is None or span.total_seconds() < low:
        raise EcallValidationError(name, f"must be a timedelta or seconds, at least {low:g} s")
    return span


def unanswerable_sender(sender: object) -> bool:
    """Whether an SMS sender id (``CallBack``) is one nobody can reply to: alphanumeric (a
    letter in it), or none at all (eCall then picks the account's default sender)."""
    return not isinstance(sender, str) or not sender.strip() or any(c.isalpha() for c in sender)


def sms_senders(task: object) -> list[object]:
    """What sends SMS for ``task``: the task itself when it is an SMS operator, and the SMS
    notifiers of its ``on_failure_callback`` (a failed task's page) — each without an
    ``answer`` URL (replies would go to that URL, whatever the sender)."""
    callbacks = getattr(task, "on_failure_callback", None)
    items = [task, *(callbacks if isinstance(callbacks, (list, tuple)) else [callbacks])]
    return [
        item
        for item in items
        if getattr(getattr(item, "spec", None), "kind", None) == "sms"
        and not getattr(item, "answer", None)
    ]


def _numbers(value: str | Sequence[str]) -> list[str]:
    items = value.split(";") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


class EcallReplySensor(BaseOperator):
    """Wait, deferred in the triggerer, for an SMS reply from given numbers with given words.

    Succeeds with ``{"message_id", "sender" (masked), "sender_index", "message",
    "timestamp"}`` (XCom) when a reply matches; after ``timeout`` without one it fails
    (``AirflowFailException``, no retries: waiting again would not be the same wait) or,
    with ``soft_fail``, is skipped. An escalation continues with ``trigger_rule="all_failed"``
    — it then also runs when the wait itself broke, which is the safe side for an alert.

    :param from_numbers: accepted senders: numbers, a list or ``;``-separated (templated);
        empty for anyone.
    :param words: accepted words, any case (templated); a reply matches when one of its
        words is one of them; empty for any text.
    :param timeout: how long to wait (``timedelta`` or seconds).
    :param since: replies received before this moment do not count (templated; ISO 8601 or
        aware datetime). Default: the DAG run's start.
    :param mobile_number: only replies to this leased number.
    :param poll_interval: seconds between polls of an empty cache (shared per connection).
    :param soft_fail: skip instead of failing after ``timeout``.
    :param ecall_conn_id: the ``ecall`` connection. (templated)
    :param reply_to: the send(s) whose answers count (templated): a JobID, several, or the
        send task's output. A reply that arrives by callback then counts only when it is
        about one of them — through a URL signed for that send, so a leaked callback URL
        cannot end waits for other sends. Replies read from the inbound cache (eCall's own
        record, with no JobID) are not limited by it. Default: any send.
    """

    template_fields = (
        "from_numbers",
        "words",
        "since",
        "mobile_number",
        "ecall_conn_id",
        "reply_to",
    )
    ui_color = "#e6f5c8"

    def __init__(
        self,
        *,
        from_numbers: str | Sequence[str] = (),
        words: Sequence[str] = ("ACK",),
        timeout: timedelta | float = timedelta(minutes=10),
        since: datetime | str | None = None,
        mobile_number: str | None = None,
        poll_interval: float = 30.0,
        soft_fail: bool = False,
        ecall_conn_id: str = "ecall_default",
        reply_to: object = None,
        **kwargs: Any,
    ) -> None:
        require_airflow("EcallReplySensor (replies through the shared inbound drain)", "3.0")
        super().__init__(**kwargs)
        self.from_numbers = from_numbers
        self.words = list(words)
        self.timeout = _seconds("timeout", timeout, low=1)
        self.since = since
        self.mobile_number = mobile_number
        self.poll_interval = _seconds("poll_interval", poll_interval, low=1).total_seconds()
        self.soft_fail = soft_fail
        self.ecall_conn_id = ecall_conn_id
        self.reply_to = reply_to

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render as Airflow does, then register the accepted senders and the leased number
        with the secret masker, so the rendered fields Airflow stores show ``***``."""
        super().render_template_fields(context, jinja_env)
        from airflow_provider_ecall.utils.masking import mask_recipients

        mask_recipients(self.from_numbers, self.mobile_number and [self.mobile_number])

    def _since(self, context: Context) -> datetime | None:
        from airflow_provider_ecall.client.responses import read_timestamp

        value = self.since
        if value is None:
            started = getattr(context.get("dag_run"), "start_date", None)
            return started if isinstance(started, datetime) else None
        found = value if isinstance(value, datetime) else read_timestamp(str(value))
        if found is None or found.tzinfo is None:
            raise EcallValidationError("since", f"{value!r} is not an aware time (ISO 8601)")
        return found

    def _reply_to(self) -> list[str]:
        """The JobIDs of ``reply_to``, as rendered (empty when not given)."""
        if self.reply_to is None or self.reply_to in ("", [], ()):
            return []
        from airflow_provider_ecall.delivery.wait import job_ids_from

        return job_ids_from(self.reply_to, field="reply_to")

    def warn_unanswerable(self, context: Context) -> list[str]:
        """Log a WARNING for each upstream SMS task whose message goes out from a sender
        nobody can reply to (its ``callback``, else the connection's ``default_callback``),
        unless it names an ``answer`` URL: this wait could then only time out.

        :return: the task ids warned about.
        """
        from airflow_provider_ecall.hooks.ecall import EcallHook

        warned = []
        for task in sorted(self.get_flat_relatives(upstream=True), key=lambda t: t.task_id):
            for sender_of in sms_senders(task):
                sender = getattr(sender_of, "callback", None)
                try:
                    if sender is None:
                        conn_id = getattr(sender_of, "ecall_conn_id", self.ecall_conn_id)
                        sender = EcallHook(ecall_conn_id=conn_id).settings.default_callback
                    elif isinstance(sender, str):
                        sender = self.render_template(sender, context)
                except Exception as exc:  # the check must never stop the wait
                    log.debug("sender of %s not known (%s)", task.task_id, exc)
                    continue
                if unanswerable_sender(sender):
                    warned.append(task.task_id)
                    self._warn(task.task_id, sender, notifier=sender_of is not task)
        return warned

    def _warn(self, task_id: str, sender: object, *, notifier: bool) -> None:
        what = f"the SMS notifier of task {task_id}" if notifier else f"task {task_id}"
        log.warning(
            "NOBODY CAN ANSWER the SMS of %s, whose reply %s waits for: it goes out from %s. "
            "Give %s callback= a number that routes replies to your eCall account (a leased "
            "mobile number), or the connection's default_callback, or answer= the callback "
            "receiver's URL; until then this wait can only time out.",
            what,
            self.task_id,
            f"the alphanumeric sender {sender!r}" if sender else "no sender id",
            "that notifier" if notifier else task_id,
        )

    def execute(self, context: Context) -> None:
        """Check the arguments and defer to an ``EcallReplyTrigger``."""
        from airflow_provider_ecall.triggers.ecall import EcallReplyTrigger
        from airflow_provider_ecall.triggers.replies import ReplyRule

        self.warn_unanswerable(context)

        try:
            rule = ReplyRule.build(
                from_numbers=_numbers(self.from_numbers),
                words=self.words,
                since=self._since(context),
            )
            deadline = datetime.now(timezone.utc) + self.timeout
            trigger = EcallReplyTrigger(
                sender_digests=rule.sender_digests,
                words=rule.words,
                since=None if rule.since is None else rule.since.isoformat(),
                deadline=deadline.isoformat(),
                ecall_conn_id=self.ecall_conn_id,
                mobile_number=self.mobile_number,
                poll_interval=self.poll_interval,
                reply_to=self._reply_to(),
            )
        except EcallValidationError as exc:
            raise AirflowFailException(
                f"eCall reply wait: invalid {exc.field}: {exc.rule}"
            ) from None
        log.info(
            "Waiting up to %s for a reply from %d number(s) with %s",
            self.timeout,
            len(rule.sender_digests),
            "/".join(rule.words) or "any text",
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=self.timeout + DEFERRAL_GRACE,
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: the matching reply, or the end of the wait."""
        if event.get("status") == "reply":
            log.info("eCall reply %s from %s matched", event.get("message_id"), event.get("sender"))
            return {
                key: event.get(key)
                for key in ("message_id", "sender", "sender_index", "message", "timestamp")
            }
        reason = f"no matching eCall reply within {self.timeout}"
        if self.soft_fail:
            raise AirflowSkipException(reason)
        raise AirflowFailException(reason)
