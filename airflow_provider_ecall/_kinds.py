"""One spec per message kind, shared by the hook, the operators and the notifiers.

The field names are written out here, not derived from the message dataclasses at import:
DAG files import the operators on every parse, and the message classes (with their
validation) are only needed to send. ``tests/airflow/test_hook.py`` checks that each list
matches its dataclass: the same fields, in order, and every field that can hold text
templated. The payload itself is built only by the message class. No Airflow import.
"""

from __future__ import annotations

import typing
from typing import Final, NamedTuple, TypedDict

if typing.TYPE_CHECKING:
    from typing_extensions import Required

    from airflow_provider_ecall.client.messages import AddressInput, DateInput, Kind, Message


class KindSpec(NamedTuple):
    """What the Airflow layer needs to know about one message kind (an immutable record; a
    NamedTuple because it is built on every DAG parse and costs less to define).

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param class_name: the message class in :mod:`airflow_provider_ecall.client.messages`.
    :param fields: every field of that dataclass, in declaration order.
    :param templated: the fields that can hold text (text, address, sender, date, job id).
    """

    kind: Kind
    class_name: str
    fields: tuple[str, ...]
    templated: tuple[str, ...]

    @property
    def message_class(self) -> type[Message]:
        """The frozen dataclass that validates and builds the payload (loaded on first use)."""
        from airflow_provider_ecall.client import messages

        found: type[Message] = getattr(messages, self.class_name)
        return found

    def build(self, values: dict[str, object]) -> Message:
        """The message value (validated by its constructor) from field values.

        :raises EcallValidationError: a value breaks a rule; nothing is sent.
        """
        return self.message_class(**values)  # type: ignore[arg-type]


_COMMON: Final = ("address", "message", "job_id", "send_date")
SMS: Final = KindSpec(
    "sms",
    "SmsMessage",
    (
        *_COMMON,
        "notification_address",
        "notification_level",
        "callback",
        "answer",
        "msg_type",
        "no_log",
    ),
    (*_COMMON, "notification_address", "callback", "answer", "msg_type"),
)
FAX: Final = KindSpec(
    "fax",
    "FaxMessage",
    (
        *_COMMON,
        "calling_number",
        "subject",
        "header_id",
        "header_info",
        "number_of_retries",
        "retry_interval_in_minutes",
    ),
    (*_COMMON, "calling_number", "subject", "header_id", "header_info"),
)
VOICE: Final = KindSpec(
    "voice",
    "VoiceMessage",
    (*_COMMON, "language", "from_text"),
    (*_COMMON, "language", "from_text"),
)
SPECS: Final[dict[str, KindSpec]] = {spec.kind: spec for spec in (SMS, FAX, VOICE)}


class CommonFields(TypedDict, total=False):
    """Keyword arguments of every kind (for notifiers; all templated)."""

    address: Required[AddressInput]
    message: str
    job_id: str | None
    send_date: DateInput | None


class SmsFields(CommonFields, total=False):
    """Keyword arguments of an SMS (see :class:`~airflow_provider_ecall.client.SmsMessage`)."""

    notification_address: AddressInput | None
    notification_level: int | str | None
    callback: str | None
    answer: str | None
    msg_type: str | None
    no_log: bool


class FaxFields(CommonFields, total=False):
    """Keyword arguments of a fax (see :class:`~airflow_provider_ecall.client.FaxMessage`)."""

    calling_number: str | None
    subject: str | None
    header_id: str | None
    header_info: str | None
    number_of_retries: int | str | None
    retry_interval_in_minutes: int | str | None


class VoiceFields(CommonFields, total=False):
    """Keyword arguments of a voice call (see
    :class:`~airflow_provider_ecall.client.VoiceMessage`)."""

    language: str | None
    from_text: str | None


__all__ = ["FAX", "SMS", "SPECS", "VOICE", "FaxFields", "KindSpec", "SmsFields", "VoiceFields"]
