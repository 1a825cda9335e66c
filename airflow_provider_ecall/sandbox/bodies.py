"""Response bodies exactly as eCall writes them (.NET DataContract XML, no declaration).

``<Result>`` and ``<Statuses>`` carry the DataContract namespace and list their children in
alphabetical order; ``<IncomingSMS>`` follows the reference's example. Text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final
from xml.sax.saxutils import escape

from airflow_provider_ecall.sandbox.params import ecall_timezone
from airflow_provider_ecall.sandbox.state import InboundSms, RecipientStatus

CONTENT_TYPE: Final = "text/xml; charset=utf-8"
_NAMESPACES: Final = (
    'xmlns="http://schemas.datacontract.org/2004/07/eCallHttp.Models" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
)
CACHE_EMPTY_CODE: Final = 11204
CACHE_EMPTY_TEXT: Final = "Cache empty"


def _text(value: str) -> str:
    return escape(value)


def format_timestamp(moment: datetime) -> str:
    """Format a moment as eCall does: eCall local time, seconds, explicit offset.

    :param moment: an aware datetime.
    :return: e.g. ``"2026-11-25T16:30:00+01:00"``.
    """
    return moment.astimezone(ecall_timezone()).replace(microsecond=0).isoformat()


def result_body(code: int, text: str) -> bytes:
    """Build a ``<Result>`` body.

    :param code: the result code.
    :param text: the result text.
    :return: the UTF-8 body.
    """
    return (
        f'<Result {_NAMESPACES}><AdditionalInfo i:nil="true"/>'
        f"<ResultCode>{code}</ResultCode><ResultText>{_text(text)}</ResultText></Result>"
    ).encode()


def _status(item: RecipientStatus) -> str:
    return (
        f"<Status><Address>{_text(item.address)}</Address><JobID>{_text(item.job_id)}</JobID>"
        f"<StatusCode>{item.code}</StatusCode><StatusText>{_text(item.text)}</StatusText>"
        f"<TimeStamp>{format_timestamp(item.timestamp)}</TimeStamp></Status>"
    )


def statuses_body(items: Iterable[RecipientStatus]) -> bytes:
    """Build a ``<Statuses>`` body with one ``<Status>`` per recipient.

    :param items: the statuses.
    :return: the UTF-8 body.
    """
    inner = "".join(_status(item) for item in items)
    return f"<Statuses {_NAMESPACES}>{inner}</Statuses>".encode()


def _inner_result(code: int, text: str) -> str:
    return f"<Result><ResultCode>{code}</ResultCode><ResultText>{_text(text)}</ResultText></Result>"


def incoming_body(sms: InboundSms) -> bytes:
    """Build the ``<IncomingSMS>`` body for one cached message.

    :param sms: the cached message.
    :return: the UTF-8 body.
    """
    return (
        f"<IncomingSMS>{_inner_result(0, 'OK')}<MessageID>{_text(sms.message_id)}</MessageID>"
        f"<SMS><Message>{_text(sms.message)}</Message>"
        f"<AddressTo>{_text(sms.address_to)}</AddressTo>"
        f"<AddressFrom>{_text(sms.address_from)}</AddressFrom>"
        f"<TimeStamp>{format_timestamp(sms.timestamp)}</TimeStamp></SMS></IncomingSMS>"
    ).encode()


def cache_empty_body() -> bytes:
    """Build the ``<IncomingSMS>`` body of an empty cache (result code 11204)."""
    return (
        f"<IncomingSMS>{_inner_result(CACHE_EMPTY_CODE, CACHE_EMPTY_TEXT)}</IncomingSMS>".encode()
    )
