"""Server-side checks of a request, as the sandbox plays eCall.

These are the simulator's own rules (not the client's), keyed to the result codes of the
interface reference. Each check returns a :class:`Failure` — ``(http_status, result_code,
result_text)`` — or ``None`` when the request passes. Texts never echo parameter values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NamedTuple

from airflow_provider_ecall.sandbox.params import normalize_number, parse_date, split_entries
from airflow_provider_ecall.sandbox.sms_length import LIMITS, sms_length


class Failure(NamedTuple):
    """Why a request is refused: ``(http_status, result_code, result_text)``."""

    http_status: int
    result_code: int
    result_text: str


_NUMBER: Final = re.compile(r"(?:\+|00)[0-9][0-9 ]*")
_EMAIL: Final = re.compile(r"[^@\s;]+@[^@\s;]+\.[^@\s;]+")
_URL: Final = re.compile(r"https?://[^\s;]+", re.IGNORECASE)
_CALLBACK_NUMBER: Final = re.compile(r"\+?[0-9]{1,16}")
_PRINTABLE_ASCII: Final = re.compile(r"[\x20-\x7e]{1,11}")
_MSG_TYPES: Final = frozenset({"normal", "flash"})
_LANGUAGES: Final = frozenset({"DE", "FR", "IT", "EN"})
#: Integer parameters and their inclusive ranges.
_RANGES: Final = {
    "NotificationLevel": (0, 3),
    "NoLog": (0, 1),
    "NumberOfRetries": (0, 9),
    "RetryIntervalInMinutes": (0, 99),
}
#: Text parameters and their maximum lengths.
_MAX_LENGTHS: Final = {"JobID": 50, "HeaderId": 20, "HeaderInfo": 50}


def _syntax(text: str) -> Failure:
    return Failure(400, 11000, text)


def is_number(entry: str) -> bool:
    """Whether ``entry`` is an international number (``+`` or ``00``, digits, spaces).

    :param entry: one stripped address.
    """
    return _NUMBER.fullmatch(entry) is not None


def is_address(entry: str) -> bool:
    """Whether ``entry`` is a number or an address-book name (starting with a letter).

    :param entry: one stripped address.
    """
    return is_number(entry) or entry[:1].isalpha()


def check_auth(params: dict[str, str], username: str, password: str) -> Failure | None:
    """Check the credentials: unknown user 11300, wrong password 11001 (both HTTP 401).

    :param params: the request parameters (canonical names).
    :param username: the sandbox's user.
    :param password: the sandbox's password.
    """
    if params.get("UserName", "") != username:
        return Failure(401, 11300, "Unknown user")
    if params.get("Password", "") != password:
        return Failure(401, 11001, "Access denied")
    return None


def check_addresses(kind: str, params: dict[str, str], max_addresses: int) -> Failure | None:
    """Check ``Address``: present (11102), not too many (11104), each valid (11100). A voice
    call takes one full phone number (the vendor page names no list and no address book).

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param params: the request parameters.
    :param max_addresses: the most recipients one request may name.
    """
    entries = split_entries(params.get("Address", ""))
    if not entries:
        return Failure(400, 11102, "No recipient address")
    limit = 1 if kind == "voice" else max_addresses
    if len(entries) > limit:
        return Failure(400, 11104, f"Too many recipient addresses (max {limit})")
    valid = is_number if kind == "voice" else is_address
    for position, entry in enumerate(entries, start=1):
        if not valid(entry):
            return Failure(400, 11100, f"Invalid recipient address (entry {position})")
    return None


def check_message(kind: str, params: dict[str, str]) -> Failure | None:
    """Check ``Message``: present (11200); an SMS within the vendor limit (11204).

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param params: the request parameters.
    """
    text = params.get("Message", "")
    if not text.strip():
        return Failure(400, 11200, "No message text")
    if kind == "sms":
        encoding, units = sms_length(text)
        if units > LIMITS[encoding]:
            return Failure(
                400, 11204, f"Message too long ({units} > {LIMITS[encoding]} {encoding})"
            )
    return None


def check_send_date(params: dict[str, str]) -> Failure | None:
    """Check ``SendDate`` is ISO 8601 (11202).

    :param params: the request parameters.
    """
    value = params.get("SendDate", "")
    if value and parse_date(value) is None:
        return Failure(400, 11202, "Invalid send time")
    return None


def check_syntax(params: dict[str, str]) -> Failure | None:
    """Check lengths, ranges and enumerations (11000).

    :param params: the request parameters.
    """
    for name, limit in _MAX_LENGTHS.items():
        if len(params.get(name, "")) > limit:
            return _syntax(f"{name} longer than {limit} characters")
    for name, (low, high) in _RANGES.items():
        value = params.get(name, "")
        if value and not (value.isascii() and value.isdigit() and low <= int(value) <= high):
            return _syntax(f"{name} must be an integer from {low} to {high}")
    msg_type = params.get("MsgType", "")
    if msg_type and msg_type.lower() not in _MSG_TYPES:
        return _syntax("MsgType must be Normal or Flash")
    language = params.get("Language", "")
    if language and language.upper() not in _LANGUAGES:
        return _syntax("Language must be DE, FR, IT or EN")
    calling = params.get("CallingNumber", "")
    if calling and not (is_number(calling) and _digits(calling) <= 16):
        return _syntax("CallingNumber must be an international number of at most 16 digits")
    return None


def _digits(value: str) -> int:
    """Digits after the international prefix (``+`` or ``00``)."""
    return sum(ch.isdigit() for ch in normalize_number(value))


def check_notification(params: dict[str, str]) -> Failure | None:
    """Check each ``NotificationAddress`` entry is a number, e-mail or http(s) URL (11101).

    :param params: the request parameters.
    """
    for entry in split_entries(params.get("NotificationAddress", "")):
        if not (is_number(entry) or _EMAIL.fullmatch(entry) or _URL.fullmatch(entry)):
            return Failure(400, 11101, "Invalid notification address")
    return None


def check_callback(params: dict[str, str]) -> Failure | None:
    """Check ``CallBack``: ≤ 16 digits, or ≤ 11 printable ASCII with a letter (11800).

    Skipped when ``Answer`` is set: eCall then ignores ``CallBack``.

    :param params: the request parameters.
    """
    value = params.get("CallBack", "")
    if not value or params.get("Answer", ""):
        return None
    if _CALLBACK_NUMBER.fullmatch(value):
        return None
    has_letter = any(ch.isascii() and ch.isalpha() for ch in value)
    if _PRINTABLE_ASCII.fullmatch(value) and has_letter:
        return None
    return Failure(400, 11800, "Sender (CallBack) holds a forbidden number or text")


def check_send(kind: str, params: dict[str, str], *, max_addresses: int) -> Failure | None:
    """Run every content check of a send request, first failure wins.

    Authentication (:func:`check_auth`) and credit are checked by the caller.

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param params: the request parameters (canonical names).
    :param max_addresses: the most recipients one request may name.
    """
    checks: tuple[Callable[[], Failure | None], ...] = (
        lambda: check_addresses(kind, params, max_addresses),
        lambda: check_message(kind, params),
        lambda: check_send_date(params),
        lambda: check_syntax(params),
        lambda: check_notification(params),
        lambda: check_callback(params),
    )
    for check in checks:
        failure = check()
        if failure is not None:
            return failure
    return None
