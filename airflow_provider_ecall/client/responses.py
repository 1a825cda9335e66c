"""Parsing of eCall's XML bodies: ``<Result>``, ``<Statuses>``/``<Status>``, ``<IncomingSMS>``.

Bodies are untrusted network input: they are parsed with defusedxml (no DTDs, no entities,
no external references) after the client has capped their size, and matched by local element
name so the DataContract namespace does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from airflow_provider_ecall.client.statuses import Outcome, outcome_of_code

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

#: The result code of "job is scheduled (not an error)", kept in a scheduled record's extra.
JOB_SCHEDULED: Final = 11912
_STATUS_FIELDS: Final = frozenset({"JobID", "Address", "StatusCode", "StatusText", "TimeStamp"})


class UnreadableBody(ValueError):
    """A body that is not the XML expected (the client turns it into an
    :class:`~airflow_provider_ecall.client.errors.EcallResponseError` with the answer's
    status and body)."""


@dataclass(frozen=True)
class ResultBody:
    """The ``<Result>`` of an answer.

    :param code: ``ResultCode`` (0 = OK), None when absent.
    :param text: ``ResultText``.
    :param additional_info: ``AdditionalInfo``, when not nil.
    """

    code: int | None
    text: str | None
    additional_info: str | None = None


@dataclass(frozen=True)
class StatusRecord:
    """One ``<Status>`` of a status query (one recipient of one job).

    :param job_id: the JobID, when eCall names it.
    :param address: the recipient, when eCall names it.
    :param status_code: eCall's status code (1 transmitted, 8 delivered, 34 confirmed, …).
    :param status_text: eCall's words for it.
    :param timestamp: ``TimeStamp`` read as a datetime, when it parses.
    :param raw_timestamp: ``TimeStamp`` as sent.
    :param extra: every other child element, by local name.
    """

    job_id: str | None
    address: str | None
    status_code: int | None
    status_text: str | None
    timestamp: datetime | None
    raw_timestamp: str | None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        """What the status means (:data:`~airflow_provider_ecall.client.statuses.STATUS_TABLE`);
        a job eCall reports as scheduled (11912) is ``pending``."""
        if self.status_code is None and self.extra.get("ResultCode") == str(JOB_SCHEDULED):
            return "pending"
        return outcome_of_code(self.status_code)


@dataclass(frozen=True)
class InboundSms:
    """One cached inbound SMS (``Api/Cache/GetNextMessage``)."""

    message_id: str
    message: str
    address_from: str | None
    address_to: str | None
    timestamp: datetime | None
    raw_timestamp: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(body: bytes) -> Element:
    """Parse an untrusted body; anything unsafe or malformed raises :class:`UnreadableBody`."""
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnreadableBody(f"refused an unsafe XML body ({type(exc).__name__})") from None
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        raise UnreadableBody(f"the body is not well-formed XML ({exc})") from None
    return root


def _children(element: Element) -> dict[str, str]:
    return {_local(child.tag): (child.text or "").strip() for child in element}


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _find(root: Element, name: str) -> Element | None:
    return next((el for el in root.iter() if _local(el.tag) == name), None)


def parse_result(body: bytes) -> ResultBody:
    """Read ``ResultCode``/``ResultText`` from a ``<Result>`` body (or one nesting it)."""
    return _result_of(parse_xml(body))


def _result_of(root: Element) -> ResultBody:
    result = root if _local(root.tag) == "Result" else _find(root, "Result")
    if result is None:
        raise UnreadableBody(f"expected a <Result> body, got <{_local(root.tag)}>")
    values = _children(result)
    code = _int_or_none(values.get("ResultCode"))
    if code is None:
        raise UnreadableBody("the <Result> body has no numeric ResultCode")
    info = values.get("AdditionalInfo") or None
    return ResultBody(code, values.get("ResultText"), info)


def read_timestamp(raw: str | None) -> datetime | None:
    """Read ISO 8601 or eCall's ``dd.mm.yyyy hh:mm:ss``; None when neither fits."""
    if not raw:
        return None
    for pattern in (None, "%d.%m.%Y %H:%M:%S"):
        try:
            moment = (
                datetime.fromisoformat(raw) if pattern is None else datetime.strptime(raw, pattern)
            )
        except ValueError:
            continue
        # eCall writes local times without an offset (reference: Europe/Zurich): make every
        # timestamp aware, so that records can be compared and sorted.
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Europe/Zurich"))
    return None


def _status(element: Element) -> StatusRecord:
    values = _children(element)
    raw_time = values.get("TimeStamp") or None
    return StatusRecord(
        job_id=values.get("JobID") or None,
        address=values.get("Address") or None,
        status_code=_int_or_none(values.get("StatusCode")),
        status_text=values.get("StatusText") or None,
        timestamp=read_timestamp(raw_time),
        raw_timestamp=raw_time,
        extra={k: v for k, v in values.items() if k not in _STATUS_FIELDS},
    )


def _status_elements(root: Element) -> Iterator[Element]:
    if _local(root.tag) == "Status":
        yield root
        return
    yield from (el for el in root.iter() if _local(el.tag) == "Status")


def parse_state(body: bytes) -> tuple[tuple[StatusRecord, ...], ResultBody | None]:
    """Read an ``Api/State`` answer of HTTP 200: statuses, or a ``<Result>`` in their place.

    :return: ``(records, None)``, or ``((), result)`` for a ``<Result>`` body.
    """
    root = parse_xml(body)
    name = _local(root.tag)
    if name == "Result":
        return (), _result_of(root)
    if name not in {"Statuses", "Status", "ArrayOfStatus"}:
        raise UnreadableBody(f"expected <Statuses>, got <{name}>")
    return tuple(_status(element) for element in _status_elements(root)), None


def parse_incoming(body: bytes) -> tuple[ResultBody, InboundSms | None]:
    """Read an ``<IncomingSMS>`` answer: its result and the message, if one was cached."""
    root = parse_xml(body)
    result = _result_of(root)
    sms = _find(root, "SMS")
    message_id = _find(root, "MessageID")
    if sms is None or message_id is None or not (message_id.text or "").strip():
        return result, None
    values = _children(sms)
    raw_time = values.get("TimeStamp") or None
    return result, InboundSms(
        message_id=(message_id.text or "").strip(),
        message=values.get("Message", ""),
        address_from=values.get("AddressFrom") or None,
        address_to=values.get("AddressTo") or None,
        timestamp=read_timestamp(raw_time),
        raw_timestamp=raw_time,
    )


def scheduled_record(job_id: str, result: ResultBody) -> StatusRecord:
    """The record for result code 11912: the job exists and waits for its send date."""
    return StatusRecord(
        job_id=job_id,
        address=None,
        status_code=None,
        status_text=result.text or "JobScheduled",
        timestamp=None,
        raw_timestamp=None,
        extra={"ResultCode": str(result.code)},
    )
