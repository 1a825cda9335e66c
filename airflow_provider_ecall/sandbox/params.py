"""Request parameters as the sandbox reads them: canonical names, addresses and dates.

eCall treats path and parameter names case-insensitively; the sandbox stores every known
parameter under the vendor's canonical casing so records and assertions read the same way
whatever casing a client sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Final
from urllib.parse import parse_qsl

import pendulum
from pendulum.parsing.exceptions import ParserError

#: The vendor's parameter names (send methods page and the interface reference).
CANONICAL_NAMES: Final = (
    "UserName",
    "Password",
    "Address",
    "Message",
    "JobID",
    "SendDate",
    "NotificationAddress",
    "NotificationLevel",
    "CallBack",
    "Answer",
    "MsgType",
    "NoLog",
    "CallingNumber",
    "Subject",
    "HeaderId",
    "HeaderInfo",
    "NumberOfRetries",
    "RetryIntervalInMinutes",
    "Language",
    "FromText",
    "StartDate",
    "EndDate",
    "MobileNumber",
    "MessageID",
)
_BY_LOWER: Final = {name.lower(): name for name in CANONICAL_NAMES}
#: Parameters never copied into records.
CREDENTIALS: Final = frozenset({"UserName", "Password"})
#: eCall's local time, used for date values without an offset.
ECALL_TIMEZONE: Final = "Europe/Zurich"


def canonical_name(name: str) -> str:
    """Return the vendor casing of a parameter name (unknown names are kept as given).

    :param name: the name as the client sent it.
    :return: e.g. ``"JobID"`` for ``"jobid"``.
    """
    return _BY_LOWER.get(name.lower(), name)


def parse_form(text: str) -> dict[str, str]:
    """Parse a query string or form body into canonical names (the last value wins).

    :param text: ``application/x-www-form-urlencoded`` text, UTF-8 percent-encoded.
    :return: parameter name to value.
    """
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
    return {canonical_name(name): value for name, value in pairs}


def without(params: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    """Return a copy of ``params`` without ``names``.

    :param params: the parameters.
    :param names: names to leave out (e.g. the credentials).
    :return: the filtered copy.
    """
    skip = frozenset(names)
    return {name: value for name, value in params.items() if name not in skip}


def split_entries(value: str) -> list[str]:
    """Split a ``;``-separated list, dropping blank entries.

    :param value: e.g. ``"+41791112233; +41791112244;"``.
    :return: the stripped, non-empty entries.
    """
    return [entry.strip() for entry in value.split(";") if entry.strip()]


def normalize_number(value: str) -> str:
    """Return a phone number without spaces and with ``00`` written as ``+``.

    :param value: a number as typed (``0041 79 111 22 33``).
    :return: e.g. ``"+41791112233"``.
    """
    compact = value.replace(" ", "")
    return "+" + compact[2:] if compact.startswith("00") else compact


@lru_cache(maxsize=1)
def ecall_timezone() -> tzinfo:
    """Return eCall's local time zone (Europe/Zurich)."""
    return pendulum.timezone(ECALL_TIMEZONE)


def parse_date(value: str) -> datetime | None:
    """Parse an ISO 8601 date and time; a value without offset is eCall local time.

    :param value: e.g. ``"2026-06-15T14:30:00+02:00"`` or ``"2026-06-15T14:30:00"``.
    :return: an aware datetime, or ``None`` when ``value`` is not an ISO 8601 date-time.
    """
    try:
        parsed = pendulum.parse(value.strip(), exact=True, tz=ecall_timezone())
    except (ParserError, ValueError, TypeError, OverflowError):
        return None
    if isinstance(parsed, pendulum.DateTime):
        return parsed
    return None
