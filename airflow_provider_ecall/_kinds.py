"""One spec per message kind, shared by the hook, the operators and the notifiers.

The field names come from the message dataclasses (:func:`dataclasses.fields`), so the
operators, notifiers and hook never keep their own copy of the payload. No Airflow import.
"""

from __future__ import annotations

import dataclasses
import typing
from types import UnionType
from typing import Final, NamedTuple, TypedDict

from airflow_provider_ecall.client.messages import (
    AddressInput,
    DateInput,
    FaxMessage,
    Kind,
    Message,
    SmsMessage,
    VoiceMessage,
)

if typing.TYPE_CHECKING:
    from typing_extensions import Required


def _text_leaves(hint: object) -> set[object]:
    """The members of a (nested) union annotation, e.g. ``{str, datetime, None}``."""
    if typing.get_origin(hint) in (typing.Union, UnionType):
        return set().union(*(_text_leaves(arg) for arg in typing.get_args(hint)))
    return {hint}


class KindSpec(NamedTuple):
    """What the Airflow layer needs to know about one message kind (an immutable record; a
    NamedTuple because it is built on every DAG parse and costs less to define).

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param message_class: the frozen dataclass that validates and builds the payload.
    :param fields: every field of that dataclass, in declaration order.
    :param templated: the fields that can hold text (text, address, sender, date, job id).
    """

    kind: Kind
    message_class: type[Message]
    fields: tuple[str, ...]
    templated: tuple[str, ...]

    @classmethod
    def of(cls, message_class: type[Message]) -> KindSpec:
        """Derive the spec of a message class from its dataclass fields."""
        hints = typing.get_type_hints(message_class)
        names = tuple(field.name for field in dataclasses.fields(message_class))
        templated = tuple(name for name in names if str in _text_leaves(hints[name]))
        return cls(message_class.kind, message_class, names, templated)

    def build(self, values: dict[str, object]) -> Message:
        """The message value (validated by its constructor) from field values.

        :raises EcallValidationError: a value breaks a rule; nothing is sent.
        """
        return self.message_class(**values)  # type: ignore[arg-type]


SMS: Final = KindSpec.of(SmsMessage)
FAX: Final = KindSpec.of(FaxMessage)
VOICE: Final = KindSpec.of(VoiceMessage)
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
