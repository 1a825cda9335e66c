"""The fields of each message kind, for the hook, the operators and the notifiers.

The keyword arguments of a kind are declared once, as a ``TypedDict`` (:class:`SmsFields`,
…); the hook and the notifiers take them with ``Unpack``, and :class:`KindSpec` reads the
field names from them. The operators spell them out again, because Airflow reads an
operator's explicit signature (``default_args``, ``.partial()``). The message dataclasses in
:mod:`airflow_provider_ecall.client.messages` are not imported here: DAG files import this
module on every parse, and only a send needs them. ``tests/airflow/test_hook.py`` checks
that each ``TypedDict`` matches its dataclass and that every text field is templated.
No Airflow import.
"""

from __future__ import annotations

import typing
from typing import Final, NamedTuple, TypedDict

if typing.TYPE_CHECKING:
    from datetime import tzinfo

    from typing_extensions import Required

    from airflow_provider_ecall.client.messages import AddressInput, DateInput, Kind


class CommonFields(TypedDict, total=False):
    """Keyword arguments of every kind (all templated)."""

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


class BuildOptions(TypedDict, total=False):
    """How a message is built from its fields (the message classes take these too).

    :param truncate: shorten a text over its kind's limit, with an ellipsis, instead of
        refusing it.
    :param timezone: the zone a naive ``send_date`` is read in (default UTC).
    """

    truncate: bool
    timezone: str | tzinfo


class SendOptions(BuildOptions, total=False):
    """How a message is built and sent (the operators and notifiers pass these on).

    :param skip_existing: first ask ``Api/State`` whether each request's JobID exists, and
        send only what eCall does not have yet.
    """

    skip_existing: bool


class SmsArguments(SmsFields, BuildOptions, total=False):
    """The fields of an SMS and how to build it (:meth:`EcallHook.send_sms`)."""


class FaxArguments(FaxFields, BuildOptions, total=False):
    """The fields of a fax and how to build it (:meth:`EcallHook.send_fax`)."""


class VoiceArguments(VoiceFields, BuildOptions, total=False):
    """The fields of a voice call and how to build it (:meth:`EcallHook.send_voice`)."""


class KindSpec(NamedTuple):
    """What the Airflow layer needs to know about one message kind (an immutable record; a
    NamedTuple because it is built on every DAG parse and costs less to define).

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param fields: every field of the kind, in declaration order.
    :param templated: the fields that can hold text (text, address, sender, date, job id).
    :param recipients: the fields that name people or places messages go to — numbers,
        e-mail addresses, callback URLs (which may carry a token) — and so are masked
        wherever Airflow stores or shows them (rendered fields, logs).
    """

    kind: Kind
    fields: tuple[str, ...]
    templated: tuple[str, ...]
    recipients: tuple[str, ...]


_COMMON: Final = tuple(CommonFields.__annotations__)
SMS: Final = KindSpec(
    "sms",
    tuple(SmsFields.__annotations__),
    (*_COMMON, "notification_address", "callback", "answer", "msg_type"),
    ("address", "notification_address", "answer"),
)
FAX: Final = KindSpec(
    "fax",
    tuple(FaxFields.__annotations__),
    (*_COMMON, "calling_number", "subject", "header_id", "header_info"),
    ("address",),
)
_VOICE_FIELDS: Final = tuple(VoiceFields.__annotations__)
VOICE: Final = KindSpec("voice", _VOICE_FIELDS, _VOICE_FIELDS, ("address",))
#: Each kind's spec by its name.
BY_KIND: Final[dict[str, KindSpec]] = {spec.kind: spec for spec in (SMS, FAX, VOICE)}

__all__ = [
    "BY_KIND",
    "FAX",
    "SMS",
    "VOICE",
    "BuildOptions",
    "CommonFields",
    "FaxArguments",
    "FaxFields",
    "KindSpec",
    "SendOptions",
    "SmsArguments",
    "SmsFields",
    "VoiceArguments",
    "VoiceFields",
]
