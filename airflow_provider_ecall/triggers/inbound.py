"""The inbound-SMS triggers: :class:`EcallInboundSmsTrigger` (asset watchers) and
:class:`EcallReplyTrigger` (a task waiting for a reply). Both read the cache through the
process's one :class:`~airflow_provider_ecall.triggers._hub.InboundHub` per connection, so
they never take each other's messages. See ``docs/replies.md`` for the consumption model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.client.messages import is_part_of
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.client.responses import read_timestamp
from airflow_provider_ecall.client.validation import international_number
from airflow_provider_ecall.triggers._hub import HubKey, InboundHub, hub_for
from airflow_provider_ecall.triggers._timing import within
from airflow_provider_ecall.triggers.replies import InboundReply, ReplyRule, normalize_number
from airflow_provider_ecall.utils.compat import require_airflow

# Before the Airflow names: on 2.11 a DAG file importing these triggers fails at parse with
#: this message instead of a missing base class.
require_airflow("inbound SMS triggers (EcallInboundSmsTrigger, EcallReplyTrigger)", "3.0")

from airflow_provider_ecall.utils.compat import (  # noqa: E402
    BaseEventTrigger,
    BaseTrigger,
    TriggerEvent,
)

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL: Final = 30.0
MIN_POLL_INTERVAL: Final = 1.0
_MODULE: Final = "airflow_provider_ecall.triggers.ecall"
#: The class path a waiting reply trigger is stored under.
REPLY_CLASSPATH: Final = f"{_MODULE}.EcallReplyTrigger"


class ReplyEvent(TriggerEvent):
    """A trigger event whose payload holds phone numbers: logs show them masked.

    The triggerer logs every event it receives; this event's ``repr`` names the message id
    and masked numbers, while the payload (the asset event's record) keeps them whole.
    """

    def __repr__(self) -> str:
        payload = self.payload if isinstance(self.payload, dict) else {}
        shown = {
            key: mask_address(str(value)) if key.startswith("address") and value else value
            for key, value in payload.items()
            if key != "message"
        }
        return f"TriggerEvent<{shown}>"

    __str__ = __repr__


def _poll_interval(value: float) -> float:
    if not isinstance(value, (int, float)) or value < MIN_POLL_INTERVAL:
        raise EcallValidationError(
            "poll_interval", f"must be a number of seconds, at least {MIN_POLL_INTERVAL:g}"
        )
    return float(value)


def _mobile_number(value: str | None) -> str | None:
    return None if value is None else international_number("mobile_number", value)


def _hub(conn_id: str, mobile_number: str | None, poll_interval: float) -> InboundHub:
    def client_factory() -> Any:
        from airflow_provider_ecall.hooks.ecall import EcallHook

        return EcallHook(ecall_conn_id=conn_id).get_client()

    return hub_for(HubKey(conn_id, mobile_number), client_factory, poll_interval)


class EcallInboundSmsTrigger(BaseEventTrigger):
    """Every inbound SMS of an eCall account as one event — for an ``AssetWatcher``
    (Airflow 3.0+), so a DAG scheduled on the asset runs once per message.

    Each event's payload (the asset event's ``extra["payload"]``) holds ``message_id``,
    ``message``, ``address_from``, ``address_to`` (in full), ``timestamp`` (ISO 8601),
    ``source`` (``"cache"``) and ``kind`` (``"reply"``). Delivery is at-least-once: a message
    is deleted from eCall's cache only after its event is out, so after a crash it may come
    again — de-duplicate on ``message_id``.

    :param ecall_conn_id: the ``ecall`` connection whose cache is drained.
    :param mobile_number: only messages to this leased number (vendor ``MobileNumber``).
    :param poll_interval: seconds between polls of an empty cache (at least 1).
    """

    def __init__(
        self,
        *,
        ecall_conn_id: str = "ecall_default",
        mobile_number: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.ecall_conn_id = ecall_conn_id
        self.mobile_number = _mobile_number(mobile_number)
        self.poll_interval = _poll_interval(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and arguments the triggerer rebuilds this trigger from."""
        return f"{_MODULE}.EcallInboundSmsTrigger", {
            "ecall_conn_id": self.ecall_conn_id,
            "mobile_number": self.mobile_number,
            "poll_interval": self.poll_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Yield one event per message, forever; delete each once its event is taken."""
        hub = _hub(self.ecall_conn_id, self.mobile_number, self.poll_interval)
        async with hub.subscribe(takes_all=True) as subscription:
            while True:
                handoff = await subscription.next()
                log.info("eCall inbound %s", handoff.reply.describe())
                yield ReplyEvent(payload=handoff.reply.to_payload())
                # The triggerer took the event (it resumes us only after that): now the hub
                # may delete the message. Closed at the yield instead, it stays cached.
                handoff.done(True)


class EcallReplyTrigger(BaseTrigger):
    """Wait for one reply matching a rule, until a deadline (used by ``EcallReplySensor``).

    The arguments hold digests of the accepted senders, never their numbers (trigger
    arguments are stored in Airflow's database).

    :param sender_digests: :func:`~airflow_provider_ecall.triggers.replies.number_digest`
        of each accepted sender; empty for anyone.
    :param words: accepted words, upper case; empty for any text.
    :param since: ISO 8601: replies received earlier do not count (None: any time).
    :param deadline: ISO 8601: give up then, with a ``timeout`` event.
    :param ecall_conn_id: the ``ecall`` connection.
    :param mobile_number: only messages to this leased number.
    :param poll_interval: seconds between polls of an empty cache.
    :param reply_to: the JobIDs of the SMS this wait takes answers to: a reply that came by
        callback counts only when it is about one of them (or one of their batches); empty:
        any. Replies read from the inbound cache are eCall's own record and carry no JobID:
        they are not limited by it.
    """

    def __init__(
        self,
        *,
        sender_digests: Sequence[str],
        words: Sequence[str],
        since: str | None,
        deadline: str,
        ecall_conn_id: str = "ecall_default",
        mobile_number: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        reply_to: Sequence[str] = (),
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.sender_digests = list(sender_digests)
        self.words = list(words)
        self.since = since
        self.deadline = deadline
        self.ecall_conn_id = ecall_conn_id
        self.mobile_number = _mobile_number(mobile_number)
        self.poll_interval = _poll_interval(poll_interval)
        self.reply_to = [str(job_id) for job_id in reply_to]

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and arguments the triggerer rebuilds this trigger from."""
        return REPLY_CLASSPATH, {
            "sender_digests": self.sender_digests,
            "words": self.words,
            "since": self.since,
            "deadline": self.deadline,
            "ecall_conn_id": self.ecall_conn_id,
            "mobile_number": self.mobile_number,
            "poll_interval": self.poll_interval,
            "reply_to": self.reply_to,
        }

    def _moment(self, name: str, value: str | None) -> datetime | None:
        found = read_timestamp(value)
        if value is not None and (found is None or found.tzinfo is None):
            raise EcallValidationError(name, f"{value!r} is not an ISO 8601 time with an offset")
        return found

    def rule(self) -> ReplyRule:
        """The rule a reply must meet."""
        since = self._moment("since", self.since)
        return ReplyRule(tuple(self.sender_digests), tuple(self.words), since)

    def _deadline(self) -> datetime:
        deadline = self._moment("deadline", self.deadline)
        assert deadline is not None
        return deadline

    def takes(self, reply: InboundReply) -> bool:
        """Whether a reply that came by callback ends this wait: it answers one of the sends
        the wait is limited to (if any), meets the rule, went to the leased number the wait is
        limited to (if any), and came before the deadline."""
        if datetime.now(timezone.utc) >= self._deadline():
            return False
        if self.reply_to and not any(
            is_part_of(reply.job_id or "", send) for send in self.reply_to
        ):
            return False
        if self.mobile_number is not None and normalize_number(
            reply.address_to or ""
        ) != normalize_number(self.mobile_number):
            return False
        return self.rule().matches(reply)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Yield ``{"status": "reply", …}`` for the first match, or ``{"status": "timeout"}``."""
        rule = self.rule()
        deadline = self._deadline()
        hub = _hub(self.ecall_conn_id, self.mobile_number, self.poll_interval)
        async with hub.subscribe(takes_all=False, replay_since=rule.since) as subscription:
            while True:
                left = (deadline - datetime.now(timezone.utc)).total_seconds()
                if left <= 0:
                    yield TriggerEvent({"status": "timeout", "deadline": self.deadline})  # type: ignore[no-untyped-call]
                    return
                try:
                    handoff = await within(subscription.next(), left)
                except asyncio.TimeoutError:
                    continue
                if not rule.matches(handoff.reply):
                    handoff.done(False)
                    continue
                # Taken before the yield: the task is this message's consumer, and a trigger
                # is not resumed after its event once the task has it.
                handoff.done(True)
                yield TriggerEvent(_match_payload(rule, handoff.reply))  # type: ignore[no-untyped-call]
                return


def _match_payload(rule: ReplyRule, reply: InboundReply) -> dict[str, Any]:
    """What the task gets back: the sender masked and by position, never in full."""
    return {
        "status": "reply",
        "message_id": reply.message_id,
        "sender": mask_address(reply.address_from or ""),
        "sender_index": rule.sender_index(reply),
        "message": reply.message,
        "timestamp": None if reply.timestamp is None else reply.timestamp.isoformat(),
    }


def reply_callback_event(
    kwargs: Mapping[str, Any], payload: Mapping[str, object]
) -> dict[str, Any] | None:
    """The event the callback receiver fires for a waiting reply trigger when a reply came
    by callback (eCall's ``Answer`` URL): the same event as the trigger's own match, or None
    when the reply is not the one it waits for.

    :param kwargs: a waiting trigger's kwargs (:meth:`EcallReplyTrigger.serialize`).
    :param payload: the reply callback's payload (:meth:`InboundReply.to_payload` shape).
    """
    trigger = EcallReplyTrigger(**{str(key): value for key, value in kwargs.items()})
    reply = InboundReply.from_payload(payload)
    return _match_payload(trigger.rule(), reply) if trigger.takes(reply) else None
