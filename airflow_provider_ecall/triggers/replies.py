"""Inbound SMS as values: one :class:`InboundReply` per message, and the rule a waiting task
matches replies with (:class:`ReplyRule`). Plain Python: no Airflow, no network."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.client.privacy import mask_address
from airflow_provider_ecall.client.responses import InboundSms, read_timestamp
from airflow_provider_ecall.client.validation import international_number

#: Separators between the words of a reply ("ack, thanks!" has the words ack and thanks).
_WORDS: Final = re.compile(r"[^\w]+", re.UNICODE)
#: ``+41…`` and ``0041…`` are the same number.
_PREFIX_00: Final = "00"


def normalize_number(value: str) -> str:
    """A number in one spelling: no formatting, ``00`` written as ``+``.

    :param value: e.g. ``"0041 79 111 22 33"``.
    :return: e.g. ``"+41791112233"``; other text is returned stripped, unchanged.
    """
    compact = re.sub(r"[\s\-./()]", "", value.strip())
    return "+" + compact[2:] if compact.startswith(_PREFIX_00) else compact


def number_digest(value: str) -> str:
    """A stable digest of a number, so a trigger's stored arguments never hold the number.

    :param value: a phone number in any spelling.
    """
    return hashlib.sha256(normalize_number(value).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class InboundReply:
    """One inbound SMS, from the cache or from a reply callback.

    :param message_id: eCall's ``MessageID`` (cache), or a digest of the callback's fields.
    :param message: the text.
    :param address_from: the sender's number, in full.
    :param address_to: the receiving (leased) number, in full.
    :param timestamp: when eCall received it (aware), when known.
    :param source: ``"cache"`` or ``"callback"``.
    :param job_id: the JobID of the SMS it answers, when eCall names one (callbacks).
    """

    message_id: str
    message: str
    address_from: str | None
    address_to: str | None
    timestamp: datetime | None
    source: str = "cache"
    job_id: str | None = None

    @classmethod
    def from_cache(cls, sms: InboundSms) -> InboundReply:
        """The reply of one ``Api/Cache/GetNextMessage`` answer."""
        return cls(sms.message_id, sms.message, sms.address_from, sms.address_to, sms.timestamp)

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> InboundReply:
        """The reply an event payload (:meth:`to_payload`) describes."""

        def text(name: str) -> str | None:
            value = payload.get(name)
            return None if value is None else str(value)

        return cls(
            message_id=str(payload["message_id"]),
            message=text("message") or "",
            address_from=text("address_from"),
            address_to=text("address_to"),
            timestamp=read_timestamp(text("timestamp")),
            source=text("source") or "cache",
            job_id=text("job_id"),
        )

    def to_payload(self) -> dict[str, str | None]:
        """The JSON-safe event payload: every field in full (the asset event is the record)."""
        return {
            "kind": "reply",
            "message_id": self.message_id,
            "message": self.message,
            "address_from": self.address_from,
            "address_to": self.address_to,
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "source": self.source,
            "job_id": self.job_id,
        }

    def describe(self) -> str:
        """One log line's worth: the id, masked numbers and the text's length, never in full."""
        sender = mask_address(self.address_from or "?")
        receiver = mask_address(self.address_to or "?")
        return f"SMS {self.message_id} from {sender} to {receiver} ({len(self.message)} chars)"

    def words(self) -> set[str]:
        """The text's words, upper case."""
        return {word.upper() for word in _WORDS.split(self.message) if word}


@dataclass(frozen=True)
class ReplyRule:
    """Which replies a waiting task takes.

    :param sender_digests: :func:`number_digest` of each accepted sender (empty: anyone).
    :param words: accepted words, upper case (empty: any text); a reply matches when one of
        its words is one of these ("ack, on my way" matches ``ACK``; "back" does not).
    :param since: replies received before this moment are old news and do not match.
    """

    sender_digests: tuple[str, ...]
    words: tuple[str, ...]
    since: datetime | None

    @classmethod
    def build(
        cls, *, from_numbers: Iterable[str], words: Iterable[str], since: datetime | None
    ) -> ReplyRule:
        """Check and normalize a task's arguments into a rule.

        :raises EcallValidationError: a sender is not an international number, a word is
            empty or holds a separator, or ``since`` is naive.
        """
        digests = tuple(
            number_digest(international_number("from_numbers", number)) for number in from_numbers
        )
        accepted: list[str] = []
        for word in words:
            if not isinstance(word, str) or not word.strip() or _WORDS.search(word.strip()):
                raise EcallValidationError("words", f"{word!r} must be one word (letters, digits)")
            accepted.append(word.strip().upper())
        if since is not None and since.tzinfo is None:
            raise EcallValidationError("since", "must be timezone-aware")
        return cls(digests, tuple(accepted), since)

    def sender_index(self, reply: InboundReply) -> int | None:
        """The position of the reply's sender among the accepted ones; None when not one."""
        if reply.address_from is None:
            return None
        digest = number_digest(reply.address_from)
        return self.sender_digests.index(digest) if digest in self.sender_digests else None

    def matches(self, reply: InboundReply) -> bool:
        """Whether a reply is one the task waits for."""
        if self.since is not None and (reply.timestamp is None or reply.timestamp < self.since):
            return False
        if self.sender_digests and self.sender_index(reply) is None:
            return False
        return not self.words or bool(reply.words() & set(self.words))
