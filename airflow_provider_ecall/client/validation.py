"""Field rules checked before any request. Each raises :class:`EcallValidationError`
naming the field and the rule; each returns the value in the form it travels in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Final

import pendulum

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.client.privacy import mask_address

#: Formatting a written number may carry: ASCII white space, dashes, dots, slashes and
#: brackets. Unicode spaces (NEL, no-break space, line separator) are not formatting: a
#: number holding one is refused rather than silently changed.
_ASCII_SPACE: Final = " \t\n\r\x0b\x0c"
_NUMBER_FORMATTING: Final = re.compile(r"[\s\-./()]", re.ASCII)
_INTERNATIONAL: Final = re.compile(r"^(?:\+|00)([1-9][0-9]{5,15})\Z")
_EMAIL: Final = re.compile(r"^[^@\s;]+@[^@\s;]+\.[^@\s;]+$")
_URL: Final = re.compile(r"^https?://[^\s;]+$", re.IGNORECASE)
_JOB_ID: Final = re.compile(r"^[\x21-\x7e]{1,50}\Z")
_SENDER_DIGITS: Final = re.compile(r"^\+?[0-9]{1,16}\Z")
_SENDER_TEXT: Final = re.compile(r"^[\x20-\x7e]{1,11}$")
# Control characters, and unpaired UTF-16 surrogates (they cannot be encoded as UTF-8).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAK: Final = re.compile(r"[\r\n\t]")
_SHORT_DIGITS: Final = re.compile(r"^[0-9]{1,9}\Z")
#: A national trunk prefix written after the country code: "+41 (0)79 …" means "+41 79 …".
_TRUNK_ZERO: Final = re.compile(r"^(\+|00)([1-9][0-9]{0,2})\s*\(0\)")
MAX_NAME_LENGTH: Final = 100
MAX_JOB_ID_LENGTH: Final = 50
#: The widest UTC offset in use (Kiribati +14:00, Baker Island -12:00).
MAX_UTC_OFFSET: Final = timedelta(hours=14)


def text(field: str, value: object, *, max_length: int | None = None, multiline: bool) -> str:
    """Check a text field: a non-blank ``str`` without control characters.

    :param field: the field name for the error.
    :param value: the value given.
    :param max_length: the longest allowed length in characters, if any.
    :param multiline: whether line breaks are allowed.
    :return: the text unchanged.
    """
    if not isinstance(value, str):
        raise EcallValidationError(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise EcallValidationError(field, "must not be empty")
    if _CONTROL.search(value) or (not multiline and _LINE_BREAK.search(value)):
        kind = "control characters" if multiline else "line breaks or control characters"
        kind += " (or unpaired surrogates)"
        raise EcallValidationError(field, f"must not contain {kind}")
    if max_length is not None and len(value) > max_length:
        raise EcallValidationError(
            field, f"is {len(value)} characters long; at most {max_length} are allowed"
        )
    return value


def has_control(value: str) -> bool:
    """Whether ``value`` holds control characters or unpaired surrogates."""
    return _CONTROL.search(value) is not None


def clean_text(value: str) -> str:
    """Replace control characters and unpaired surrogates by spaces, so that :func:`text`
    accepts the result (for alert texts built from arbitrary exception messages)."""
    return _CONTROL.sub(" ", value)


def split_list(field: str, value: object) -> tuple[str, ...]:
    """Turn ``"a;b"`` or ``["a", "b"]`` into ``("a", "b")``; blank entries are dropped.

    :raises EcallValidationError: for another type or when no entry is left.
    """
    if isinstance(value, str):
        parts: Sequence[object] = value.split(";")
    elif isinstance(value, Sequence):
        parts = value
    else:
        raise EcallValidationError(field, "must be a string with ';' or a list of strings")
    entries: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise EcallValidationError(field, f"entries must be strings, not {type(part).__name__}")
        entries.extend(item.strip() for item in part.split(";") if item.strip())
    if not entries:
        raise EcallValidationError(field, "must name at least one recipient")
    return tuple(entries)


def international_number(field: str, value: str, *, max_digits: int = 15) -> str:
    """Check an international phone number (``+41…`` or ``0041…``) and strip its formatting.

    :param max_digits: the most digits after the ``+``/``00`` prefix (E.164: 15).
    :return: the number without spaces, dashes, dots, slashes or brackets.
    """
    written = value.strip(_ASCII_SPACE)
    if "(0)" in written:  # rare; the substitution's template costs more than the check
        written = _TRUNK_ZERO.sub(r"\1\2", written)
    compact = _NUMBER_FORMATTING.sub("", written)
    match = _INTERNATIONAL.match(compact)
    if match is None or len(match.group(1)) > max_digits:
        raise EcallValidationError(
            field,
            f"{mask_address(compact)!r} is not an international number ('+' or '00', then the "
            "country code "
            f"and number, 6 to {max_digits} digits)",
        )
    return compact


def recipient(field: str, value: str, *, names: bool, emails: bool = False) -> str:
    """Check one recipient: an international number, or an address-book name / e-mail.

    :param names: whether address-book names (starting with a letter) are allowed.
    :param emails: whether e-mail addresses and http(s) URLs are allowed.
    """
    if _CONTROL.search(value):
        raise EcallValidationError(field, "entries must not contain control characters")
    if emails and (_EMAIL.match(value) or _URL.match(value)):
        return value
    if value[0] in "+(0123456789":
        return international_number(field, value)
    if names and value[0].isalpha():
        if len(value) > MAX_NAME_LENGTH:
            raise EcallValidationError(field, f"address-book names are at most {MAX_NAME_LENGTH}")
        return value
    allowed = ["an international number (+41… or 0041…)"]
    if names:
        allowed.append("an address-book name starting with a letter")
    if emails:
        allowed.append("an e-mail address or http(s) URL")
    raise EcallValidationError(field, f"{mask_address(value)!r} is not " + ", or ".join(allowed))


def job_id(value: object) -> str:
    """Check a JobID: 1–50 printable ASCII characters without spaces (vendor: ≤ 50)."""
    if not isinstance(value, str) or not _JOB_ID.match(value):
        raise EcallValidationError(
            "job_id", "must be 1 to 50 printable ASCII characters without spaces"
        )
    return value


def sender(field: str, value: object) -> str:
    """Check a sender id: up to 16 digits (optional '+'), or up to 11 printable ASCII
    characters including a letter (vendor: ``CallBack``)."""
    if isinstance(value, str) and _SENDER_DIGITS.match(value):
        return value
    if (
        isinstance(value, str)
        and _SENDER_TEXT.match(value)
        and any(ch.isalpha() for ch in value)
        and value == value.strip()
    ):
        return value
    raise EcallValidationError(
        field,
        "must be up to 16 digits (optionally with a leading '+') or up to 11 printable "
        "ASCII characters including a letter",
    )


def integer(field: str, value: object, *, low: int, high: int) -> int:
    """Check an integer within ``low..high``. A string of digits is accepted too, as values
    read from configuration or connection extras often are; none of the fields checked here
    is templated, so no template produces one."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _SHORT_DIGITS.match(value.strip()):
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise EcallValidationError(field, f"must be a whole number from {low} to {high}")
    return number


def choice(field: str, value: object, options: Sequence[str]) -> str:
    """Check a value against ``options`` case-insensitively; return the canonical spelling."""
    if isinstance(value, str):
        for option in options:
            if option.lower() == value.strip().lower():
                return option
    raise EcallValidationError(field, "must be one of " + ", ".join(options))


def flag(field: str, value: object) -> bool:
    """Check a boolean; the strings ``true/false/1/0/yes/no`` are accepted too, as values
    read from configuration often are (``no_log`` is not templated)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    raise EcallValidationError(field, "must be true or false")


def send_date(
    value: object, *, timezone: str | tzinfo = "UTC", field: str = "send_date"
) -> datetime:
    """Read a send date (datetime, pendulum or ISO 8601 string) as an aware datetime.

    A value without an offset is read in ``timezone``, so it always travels with one.

    :param value: the date given.
    :param timezone: the zone for naive values (the DAG's timezone in Airflow; UTC here).
    :param field: the field name for errors (``start_date`` and ``end_date`` use it too).
    """
    zone = pendulum.timezone(timezone) if isinstance(timezone, str) else timezone
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            result: object = pendulum.parse(value.strip(), tz=None, strict=True)
        except (ValueError, TypeError) as exc:  # ParserError is a ValueError; pendulum 3.3
            # raises TypeError on some malformed times such as "14::30"
            raise EcallValidationError(field, f"{value!r} is not an ISO 8601 date") from exc
        if isinstance(result, datetime):
            parsed = result
        else:
            raise EcallValidationError(field, f"{value!r} is not a date and time")
    else:
        raise EcallValidationError(field, "must be a datetime or an ISO 8601 string")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return pendulum.instance(_iso_offset(parsed, field).replace(microsecond=0))


def _iso_offset(moment: datetime, field: str) -> datetime:
    """Keep an offset ISO 8601 can write (whole minutes, within ±14:00).

    Offsets with seconds (historic local mean times such as ``-00:16:08``) are converted to
    UTC; offsets beyond ±14:00 are refused.
    """
    try:
        offset = moment.utcoffset() or timedelta(0)
    except ValueError:  # an offset of a day or more, which datetime itself refuses
        offset = MAX_UTC_OFFSET * 2
    if abs(offset) > MAX_UTC_OFFSET:
        raise EcallValidationError(field, "the UTC offset must be within ±14:00")
    if offset % timedelta(minutes=1):
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:
            raise EcallValidationError(field, "is out of the supported range") from None
    return moment
