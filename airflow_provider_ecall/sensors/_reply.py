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

from airflow_provider_ecall._compat import (
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
    Context,
    require_airflow,
)
from airflow_provider_ecall.client.errors import EcallValidationError

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
    """

    template_fields = ("from_numbers", "words", "since", "mobile_number", "ecall_conn_id")
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

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render as Airflow does, then register the accepted senders and the leased number
        with the secret masker, so the rendered fields Airflow stores show ``***``."""
        super().render_template_fields(context, jinja_env)
        from airflow_provider_ecall._masking import mask_recipients

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

    def execute(self, context: Context) -> None:
        """Check the arguments and defer to an ``EcallReplyTrigger``."""
        from airflow_provider_ecall.triggers._replies import ReplyRule
        from airflow_provider_ecall.triggers.ecall import EcallReplyTrigger

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
