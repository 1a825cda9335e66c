"""eCall's callbacks read and checked: plain Python, no Airflow, no web framework.

eCall calls a URL you give with an HTTP GET (reference section 7): a reply
(``Function=Answer``: ``AddressFrom``, ``AddressTo``, ``Message``, ``TimeStamp``, ``JobID``)
or a delivery notification (``ResultCode``, ``ResultText``, ``Number``, ``TimeStamp``,
``JobID``). The query is percent-encoded **Windows-1252**, times are ``dd.mm.yyyy
hh:mm:ss`` in eCall's local time, and nothing is signed — hence the URL token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Final, Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

CallbackKind = Literal["reply", "delivery"]

#: The most query bytes one callback may carry (a 10-page SMS is ~1.6 k characters, which
#: percent-encoding at most triples).
MAX_QUERY_BYTES: Final = 8192
#: Tokens shorter than this are refused: the token is the only thing guarding the URL.
MIN_TOKEN_LENGTH: Final = 32
ENCODING: Final = "cp1252"
_TIME_FORMAT: Final = "%d.%m.%Y %H:%M:%S"
_ZONE: Final = "Europe/Zurich"
#: The plausible range of a callback's TimeStamp: after 2000, at most a day ahead of us.
_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)
_SKEW: Final = timedelta(days=1)
_NUMBER: Final = re.compile(r"\+?[0-9]{1,20}", re.ASCII)
_DIGITS: Final = re.compile(r"[0-9]{1,6}", re.ASCII)
#: C0 controls and DEL (a message's line breaks and tabs aside).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "reply": ("AddressFrom", "AddressTo", "Message", "TimeStamp"),
    "delivery": ("ResultCode", "Number", "TimeStamp"),
}
_KNOWN: Final = frozenset(
    {
        "Function",
        "AddressFrom",
        "AddressTo",
        "Message",
        "TimeStamp",
        "JobID",
        "ResultCode",
        "ResultText",
        "Number",
    }
)
_CANONICAL: Final = {name.lower(): name for name in _KNOWN}


class CallbackRefused(Exception):
    """A callback the receiver does not accept.

    :param status: the HTTP status to answer (400 malformed, 414 too large).
    :param reason: why, naming the parameter and the rule (never a value).
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _decode(raw_query: str) -> dict[str, str]:
    if len(raw_query.encode("latin-1", errors="replace")) > MAX_QUERY_BYTES:
        raise CallbackRefused(414, f"the query is longer than {MAX_QUERY_BYTES} bytes")
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, encoding=ENCODING, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise CallbackRefused(400, "the query is not percent-encoded Windows-1252") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        canonical = _CANONICAL.get(name.lower(), name)
        if canonical in found:
            raise CallbackRefused(400, f"{canonical} is given more than once")
        found[canonical] = value
    return found


def _timestamp(value: str, now: datetime) -> str:
    try:
        moment = datetime.strptime(value.strip(), _TIME_FORMAT)
    except ValueError:
        raise CallbackRefused(400, "TimeStamp must read dd.mm.yyyy hh:mm:ss") from None
    aware = moment.replace(tzinfo=ZoneInfo(_ZONE))
    if not _EARLIEST <= aware <= now + _SKEW:
        raise CallbackRefused(
            400, "TimeStamp must lie between the year 2000 and one day after the receiver's clock"
        )
    return aware.isoformat()


def _number(name: str, value: str) -> str:
    """A phone number as eCall means it: an unescaped ``+`` arrives as a space."""
    if value[:1] == " " and value[1:2].isdigit():
        value = "+" + value[1:]
    value = value.strip()
    if not _NUMBER.fullmatch(value):
        raise CallbackRefused(400, f"{name} must be a phone number: ASCII digits, a leading +")
    return value


def _clean(fields: dict[str, str]) -> dict[str, str]:
    for name, value in fields.items():
        if _CONTROL.search(value.replace("\r", "").replace("\n", "").replace("\t", "")):
            raise CallbackRefused(400, f"{name} must not hold control characters (such as NUL)")
    return fields


def callback_key(kind: CallbackKind, payload: Mapping[str, object]) -> str:
    """A stable id of one callback (eCall gives none), from its normalized fields: the same
    callback twice — however its query was spelt — gives the same id.

    :param kind: ``"reply"`` or ``"delivery"``.
    :param payload: the parsed callback (:func:`parse_callback`), ``message_id`` aside.
    """
    named = {k: v for k, v in payload.items() if k != "message_id"}
    text = json.dumps([kind, named], sort_keys=True, ensure_ascii=True)
    return f"cb-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def parse_callback(
    kind: CallbackKind, raw_query: str, *, now: datetime | None = None
) -> dict[str, str | int | None]:
    """Check one callback and turn it into an asset event payload.

    :param kind: ``"reply"`` or ``"delivery"`` (the route it came to).
    :param raw_query: the URL's query as received (still percent-encoded).
    :param now: the receiver's clock (default: now), which a TimeStamp may not pass by
        more than a day.
    :return: for a reply the same payload as ``EcallInboundSmsTrigger``'s events (with
        ``source`` ``"callback"`` and ``job_id``); for a delivery notification ``job_id``,
        ``number``, ``result_code``, ``result_text``, ``timestamp``. ``message_id`` is
        :func:`callback_key`.
    :raises CallbackRefused: too large, not Windows-1252, a parameter missing, repeated,
        holding a control character, or malformed.
    """
    fields = _clean(_decode(raw_query))
    for name in _REQUIRED[kind]:
        if not fields.get(name, "").strip():
            raise CallbackRefused(400, f"{name} is required for a {kind} callback")
    timestamp = _timestamp(fields["TimeStamp"], now or datetime.now(timezone.utc))
    job_id = fields.get("JobID", "").strip() or None
    payload: dict[str, str | int | None]
    if kind == "reply":
        payload = {
            "kind": "reply",
            "message": fields["Message"],
            "address_from": _number("AddressFrom", fields["AddressFrom"]),
            "address_to": _number("AddressTo", fields["AddressTo"]),
            "timestamp": timestamp,
            "source": "callback",
            "job_id": job_id,
        }
    else:
        code = fields["ResultCode"].strip()
        if not _DIGITS.fullmatch(code):
            raise CallbackRefused(400, "ResultCode must be a whole number (ASCII digits)")
        payload = {
            "kind": "delivery",
            "job_id": job_id,
            "number": _number("Number", fields["Number"]),
            "result_code": int(code),
            "result_text": fields.get("ResultText", "").strip() or None,
            "timestamp": timestamp,
            "source": "callback",
        }
    return {"message_id": callback_key(kind, payload), **payload}


def token_matches(given: str, tokens: Iterable[str]) -> bool:
    """Whether ``given`` is one of ``tokens``, compared in constant time against each."""
    given_bytes = given.encode("utf-8", errors="replace")
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given_bytes, token.encode("utf-8"))
    return found


def read_tokens(setting: str) -> tuple[str, ...]:
    """The configured tokens (comma- or space-separated, several during a rotation).

    :raises ValueError: a token is shorter than :data:`MIN_TOKEN_LENGTH` (the message never
        shows it).
    """
    tokens = tuple(t for t in setting.replace(",", " ").split() if t)
    for number, token in enumerate(tokens, 1):
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"[ecall] callback_tokens: token {number} is shorter than {MIN_TOKEN_LENGTH} "
                "characters; use e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
    return tokens
