"""The three message kinds as frozen, validated values.

The constructor of each kind is its one builder: every layer (hook, operators, notifiers)
builds a message by calling it. It checks every rule that can be checked locally; an invalid
value raises :class:`~airflow_provider_ecall.client.errors.EcallValidationError` and nothing
is sent. Two build options are taken with the fields: ``truncate`` (shorten a text over the
kind's limit instead of refusing it) and ``timezone`` (the zone a naive ``send_date`` is read
in). ``to_params()`` gives the exact form fields of the vendor's "Send methods" page.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Final, Literal

from airflow_provider_ecall.client import lengths
from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.client.privacy import Form, mask_addresses

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

#: The message kinds, one per eCall send endpoint.
Kind = Literal["sms", "fax", "voice"]
#: Recipients: one string, ``;``-separated, or a sequence of strings.
AddressInput = str | Sequence[str]
#: A send date: a ``datetime`` or an ISO 8601 string.
DateInput = datetime | str
MSG_TYPES: Final = ("Normal", "Flash")
LANGUAGES: Final = ("DE", "FR", "IT", "EN")


@dataclass(frozen=True, kw_only=True, repr=False)
class _Message:
    """Fields every kind has (vendor: ``Address``, ``Message``, ``JobID``, ``SendDate``)."""

    kind: ClassVar[Kind]
    endpoint: ClassVar[str]
    #: The largest number of recipients one request may carry (None = no own limit).
    max_batch: ClassVar[int | None] = None
    #: The longest text in characters. eCall publishes none for fax and voice, so these are
    #: the project's guards (keeping every request well under a megabyte); SMS uses pages.
    max_message_length: ClassVar[int] = 50_000

    address: AddressInput
    message: str
    job_id: str | None = None
    send_date: DateInput | None = None
    #: Build option: shorten a text over the limit (with an ellipsis) instead of refusing it.
    truncate: InitVar[bool] = False
    #: Build option: the zone a naive ``send_date`` is read in.
    timezone: InitVar[str | tzinfo] = "UTC"

    def __post_init__(self, truncate: bool, timezone: str | tzinfo) -> None:
        self._set("address", self._check_addresses(check.split_list("address", self.address)))
        if truncate and isinstance(self.message, str):
            self._shorten_message()
        check.text("message", self.message, max_length=self.max_message_length, multiline=True)
        if self.job_id is not None:
            check.job_id(self.job_id)
        if self.send_date is not None:
            self._set("send_date", check.send_date(self.send_date, timezone=timezone))
        self._check_kind()

    def __repr__(self) -> str:
        # Phone numbers are personal data: a repr can end up in logs and tracebacks.
        return (
            f"{type(self).__name__}(recipients={mask_addresses(self.recipients)!r}, "
            f"job_id={self.job_id!r}, message_length={len(self.message)})"
        )

    @classmethod
    def fit_text(cls, text: str) -> str:
        """Shorten ``text`` to what this kind can carry, ending it with an ellipsis."""
        return lengths.truncate(text, cls.max_message_length)

    def _shorten_message(self) -> None:
        fitted = self.fit_text(self.message)
        if fitted != self.message:
            log.warning("eCall %s text shortened from %d characters", self.kind, len(self.message))
            self._set("message", fitted)

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_addresses(self, entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check.recipient("address", entry, names=True) for entry in entries)

    def _check_kind(self) -> None:
        """Check the fields of one kind; overridden by each kind."""

    @property
    def recipients(self) -> tuple[str, ...]:
        """The recipients, normalised, in order."""
        return tuple(self.address)

    def for_batch(self, recipients: tuple[str, ...], job_id: str | None) -> Self:
        """A copy for one request of :meth:`EcallClient.plan`: recipients taken from this
        message and a JobID derived from its own, so nothing is validated again."""
        copied = copy.copy(self)  # copy.copy skips __post_init__
        copied._set("address", recipients)
        copied._set("job_id", job_id)
        return copied

    def to_params(self) -> Form:
        """The vendor form fields of this message, without credentials, omitting unset ones
        (a :class:`Form`: a mapping that never shows its values)."""
        params = {"Address": ";".join(self.recipients), "Message": self.message}
        if self.job_id is not None:
            params["JobID"] = self.job_id
        if isinstance(self.send_date, datetime):
            params["SendDate"] = self.send_date.isoformat()
        for name, value in self._extra_params().items():
            if value is not None:
                params[name] = value
        return Form(params)

    def _extra_params(self) -> dict[str, str | None]:
        return {}


def batch_job_id(job_id: str, number: int) -> str:
    """The JobID of request ``number`` (from 1) of a send split into batches."""
    return f"{job_id}-{number}"


def is_part_of(job_id: str, send: str) -> bool:
    """Whether a JobID eCall names (in a callback or a status) is about the send ``send``:
    its JobID, or one of the :func:`batch_job_id` a send to many recipients is split into.

    >>> is_part_of("alert-2", "alert"), is_part_of("alert-x", "alert")
    (True, False)
    """
    head, dash, number = job_id.rpartition("-")
    return job_id == send or (bool(dash) and head == send and number.isdigit() and number.isascii())


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, kw_only=True, repr=False)
class SmsMessage(_Message):
    """An SMS (vendor ``Api/Sms``).

    :param address: international numbers or address-book names, ``;``-separated or a list.
    :param message: the text; up to 1530 GSM 03.38 or 1570 UCS-2 characters (10 pages).
    :param job_id: a client-defined identifier, up to 50 characters.
    :param send_date: when to send; naive values are read in ``timezone``.
    :param notification_address: numbers, e-mails or URLs told of the delivery status.
    :param notification_level: 0 status when available, 1 last tracking point, 2 also
        delayed sends, 3 failures only.
    :param callback: the sender id: up to 16 digits or 11 ASCII characters.
    :param answer: where replies are forwarded; eCall then ignores ``callback``.
    :param msg_type: ``"Normal"`` or ``"Flash"``.
    :param no_log: keep the message out of eCall's log.
    :param truncate: shorten a text over 10 pages, ending it with an ellipsis.
    :param timezone: the zone a naive ``send_date`` is read in (default UTC).
    """

    kind: ClassVar[Kind] = "sms"
    endpoint: ClassVar[str] = "Api/Sms"

    notification_address: AddressInput | None = None
    notification_level: int | str | None = None
    callback: str | None = None
    answer: str | None = None
    msg_type: str | None = None
    no_log: bool = False

    @classmethod
    def fit_text(cls, text: str) -> str:
        """Shorten ``text`` to the 10-page limit of its encoding, ending with an ellipsis."""
        return lengths.truncate(text)

    @cached_property
    def measure(self) -> lengths.TextMeasure:
        """Encoding, length units and pages of the text (computed once)."""
        return lengths.measure(self.message)

    def _check_kind(self) -> None:
        length = self.measure
        if not length.fits:
            raise EcallValidationError(
                "message",
                f"is {length.units} {length.encoding} characters; eCall takes at most "
                f"{length.limit} (set truncate to shorten it)",
            )
        if self.notification_address is not None:
            entries = check.split_list("notification_address", self.notification_address)
            self._set(
                "notification_address",
                tuple(
                    check.recipient("notification_address", entry, names=False, emails=True)
                    for entry in entries
                ),
            )
        if self.notification_level is not None:
            level = check.integer("notification_level", self.notification_level, low=0, high=3)
            self._set("notification_level", level)
        if self.callback is not None:
            check.sender("callback", self.callback)
        if self.answer is not None:
            answer = check.text("answer", self.answer, multiline=False)
            self._set("answer", check.recipient("answer", answer, names=False, emails=True))
        if self.msg_type is not None:
            self._set("msg_type", check.choice("msg_type", self.msg_type, MSG_TYPES))
        self._set("no_log", check.flag("no_log", self.no_log))

    def _extra_params(self) -> dict[str, str | None]:
        notify = self.notification_address
        return {
            "NotificationAddress": None if notify is None else ";".join(notify),
            "NotificationLevel": _opt(self.notification_level),
            "CallBack": self.callback,
            "Answer": self.answer,
            "MsgType": self.msg_type,
            "NoLog": "1" if self.no_log else None,
        }


@dataclass(frozen=True, kw_only=True, repr=False)
class FaxMessage(_Message):
    """A fax (vendor ``Api/Fax``).

    :param address: international fax numbers or address-book names.
    :param message: the fax text, up to 50,000 characters (a project guard).
    :param job_id: a client-defined identifier, up to 50 characters.
    :param send_date: when to send; naive values are read in ``timezone``.
    :param calling_number: the sender number, international, up to 16 digits.
    :param subject: the title on the cover sheet, up to 200 characters (a project guard).
    :param header_id: the sender header on every page, up to 20 characters.
    :param header_info: more header text beside it, up to 50 characters.
    :param number_of_retries: retry attempts by eCall, 0–9 (vendor default 0).
    :param retry_interval_in_minutes: minutes between retries, 1–99.
    :param truncate: shorten a text over 50,000 characters, ending it with an ellipsis.
    :param timezone: the zone a naive ``send_date`` is read in (default UTC).
    """

    kind: ClassVar[Kind] = "fax"
    endpoint: ClassVar[str] = "Api/Fax"

    calling_number: str | None = None
    subject: str | None = None
    header_id: str | None = None
    header_info: str | None = None
    number_of_retries: int | str | None = None
    retry_interval_in_minutes: int | str | None = None

    def _check_kind(self) -> None:
        if self.calling_number is not None:
            number = check.text("calling_number", self.calling_number, multiline=False)
            self._set(
                "calling_number",
                check.international_number("calling_number", number, max_digits=16),
            )
        if self.subject is not None:
            check.text("subject", self.subject, max_length=200, multiline=False)
        if self.header_id is not None:
            check.text("header_id", self.header_id, max_length=20, multiline=False)
        if self.header_info is not None:
            check.text("header_info", self.header_info, max_length=50, multiline=False)
        if self.number_of_retries is not None:
            retries = check.integer("number_of_retries", self.number_of_retries, low=0, high=9)
            self._set("number_of_retries", retries)
        if self.retry_interval_in_minutes is not None:
            interval = check.integer(
                "retry_interval_in_minutes", self.retry_interval_in_minutes, low=1, high=99
            )
            self._set("retry_interval_in_minutes", interval)

    def _extra_params(self) -> dict[str, str | None]:
        return {
            "CallingNumber": self.calling_number,
            "Subject": self.subject,
            "HeaderId": self.header_id,
            "HeaderInfo": self.header_info,
            "NumberOfRetries": _opt(self.number_of_retries),
            "RetryIntervalInMinutes": _opt(self.retry_interval_in_minutes),
        }


@dataclass(frozen=True, kw_only=True, repr=False)
class VoiceMessage(_Message):
    """A text-to-speech call (vendor ``Api/Voice``).

    The vendor page names one "full recipient phone number" per call, so several numbers go
    out as one request each.

    :param address: international phone numbers.
    :param message: the text spoken, up to 5,000 characters (a project guard).
    :param job_id: a client-defined identifier, up to 50 characters.
    :param send_date: when to call; naive values are read in ``timezone``.
    :param language: ``"DE"``, ``"FR"``, ``"IT"`` or ``"EN"``; None lets eCall detect it.
    :param from_text: the sender name read after the message, up to 100 characters.
    :param truncate: shorten a text over 5,000 characters, ending it with an ellipsis.
    :param timezone: the zone a naive ``send_date`` is read in (default UTC).
    """

    kind: ClassVar[Kind] = "voice"
    endpoint: ClassVar[str] = "Api/Voice"
    max_batch: ClassVar[int | None] = 1
    #: About five minutes of speech; a project guard, eCall publishes no limit.
    max_message_length: ClassVar[int] = 5_000

    language: str | None = None
    from_text: str | None = None

    def _check_addresses(self, entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check.international_number("address", entry) for entry in entries)

    def _check_kind(self) -> None:
        if self.language is not None:
            self._set("language", check.choice("language", self.language, LANGUAGES))
        if self.from_text is not None:
            check.text("from_text", self.from_text, max_length=100, multiline=False)

    def _extra_params(self) -> dict[str, str | None]:
        return {"Language": self.language, "FromText": self.from_text}


#: Any message the client sends.
Message = SmsMessage | FaxMessage | VoiceMessage
