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
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
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


def _timestamp(value: str) -> str:
    try:
        moment = datetime.strptime(value.strip(), _TIME_FORMAT)
    except ValueError:
        raise CallbackRefused(400, "TimeStamp must read dd.mm.yyyy hh:mm:ss") from None
    return moment.replace(tzinfo=ZoneInfo(_ZONE)).isoformat()


def callback_key(kind: CallbackKind, fields: dict[str, str]) -> str:
    """A stable id of one callback (eCall gives none): the same callback twice, same id."""
    digest = hashlib.sha256(kind.encode())
    for name in sorted(fields):
        digest.update(f"\x1f{name}\x1e{fields[name]}".encode())
    return f"cb-{digest.hexdigest()[:32]}"


def parse_callback(kind: CallbackKind, raw_query: str) -> dict[str, str | int | None]:
    """Check one callback and turn it into an asset event payload.

    :param kind: ``"reply"`` or ``"delivery"`` (the route it came to).
    :param raw_query: the URL's query as received (still percent-encoded).
    :return: for a reply the same payload as ``EcallInboundSmsTrigger``'s events (with
        ``source`` ``"callback"`` and ``job_id``); for a delivery notification ``job_id``,
        ``number``, ``result_code``, ``result_text``, ``timestamp``. ``message_id`` is
        :func:`callback_key`.
    :raises CallbackRefused: too large, not Windows-1252, a parameter missing, repeated or
        malformed.
    """
    fields = _decode(raw_query)
    for name in _REQUIRED[kind]:
        if not fields.get(name, "").strip():
            raise CallbackRefused(400, f"{name} is required for a {kind} callback")
    timestamp = _timestamp(fields["TimeStamp"])
    key = callback_key(kind, {k: v for k, v in fields.items() if k in _KNOWN})
    job_id = fields.get("JobID") or None
    if kind == "reply":
        return {
            "kind": "reply",
            "message_id": key,
            "message": fields["Message"],
            "address_from": fields["AddressFrom"].strip(),
            "address_to": fields["AddressTo"].strip(),
            "timestamp": timestamp,
            "source": "callback",
            "job_id": job_id,
        }
    try:
        code = int(fields["ResultCode"])
    except ValueError:
        raise CallbackRefused(400, "ResultCode must be a whole number") from None
    return {
        "kind": "delivery",
        "message_id": key,
        "job_id": job_id,
        "number": fields["Number"].strip(),
        "result_code": code,
        "result_text": fields.get("ResultText") or None,
        "timestamp": timestamp,
        "source": "callback",
    }


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


class RecentKeys:
    """The ids of recently recorded callbacks, so a repeat is answered 200 and not recorded
    twice (per api-server process; consumers de-duplicate on ``message_id`` beyond that).

    :param limit: how many ids to keep.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        """Remember one id (the oldest is forgotten beyond the limit)."""
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self._limit:
            self._keys.popitem(last=False)
