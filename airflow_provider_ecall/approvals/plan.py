"""The reminder plan of a waiting approval: what the api-server needs to remind and escalate,
sealed so that the XCom it travels in shows no phone number.

The notifier (in the worker) seals the plan with a key derived from the first of
``[ecall] callback_signing_keys`` (HKDF-SHA256, then Fernet: AES-128-CBC and HMAC-SHA256);
the api-server opens it with any configured key (a rotation keeps old plans readable). The
plan says when the request was asked, how often to remind, when to call, and until when.
Which send is due at a moment is :meth:`ReminderPlan.due`: only the latest reminder due, so
that a scan that comes late sends one reminder, not a backlog.

>>> plan = ReminderPlan("c", "Deploy?", ("Approve", "Reject"), False, None, ("+41791112233",),
...                     (), asked_at=1000.0, remind_every=600.0)
>>> plan.due(2300.0)
('r2',)
>>> open_plan(seal_plan(plan, "k" * 32), ("k" * 32,)) == plan
True
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

#: The XCom key the notifier pushes the sealed plan under.
PLAN_KEY: Final = "ecall_hitl_reminders"
#: The most reminders one request gets, whatever ``remind_every``.
MAX_REMINDERS: Final = 20
#: The shortest ``remind_every`` and ``escalate_after`` (seconds).
MIN_INTERVAL: Final = 10.0
_VERSION: Final = 1
_INFO: Final = b"airflow-provider-ecall hitl reminder plan v1"


class PlanUnreadable(ValueError):
    """A sealed plan no configured key opens, or one that does not decode (never shown)."""


@dataclass(frozen=True)
class ReminderPlan:
    """What the api-server needs to remind about one request and escalate it.

    :param conn_id: the ``ecall`` connection to send through.
    :param subject: the request's subject, as rendered.
    :param options: its options, in order (numbered from 1).
    :param multiple: whether several options may be chosen.
    :param link: the Required Actions page, when known.
    :param sms_to: the reminders' recipients.
    :param voice_to: the escalation call's recipients (empty: no escalation).
    :param asked_at: when the request was sent (Unix seconds).
    :param remind_every: seconds between reminders (None: none).
    :param escalate_after: seconds after ``asked_at`` to call (None: no call).
    :param until: when the request times out (Unix seconds; None: no timeout).
    :param max_reminders: the most reminders (at most :data:`MAX_REMINDERS`).
    :param max_pages: the most SMS pages a reminder may take.
    """

    conn_id: str
    subject: str
    options: tuple[str, ...]
    multiple: bool
    link: str | None
    sms_to: tuple[str, ...] = field(repr=False)
    voice_to: tuple[str, ...] = field(repr=False)
    asked_at: float = 0.0
    remind_every: float | None = None
    escalate_after: float | None = None
    until: float | None = None
    max_reminders: int = MAX_REMINDERS
    max_pages: int = 2

    def due(self, now: float) -> tuple[str, ...]:
        """The sends due at ``now``: the latest reminder due (``"r<n>"``) and the voice
        escalation (``"v1"``) once its time has come — none past the timeout."""
        if self.until is not None and now >= self.until:
            return ()
        found: list[str] = []
        if self.remind_every and self.sms_to:
            number = min(int((now - self.asked_at) // self.remind_every), self.max_reminders)
            if number >= 1:
                found.append(f"r{number}")
        escalate = self.escalate_after
        if escalate is not None and self.voice_to and now >= self.asked_at + escalate:
            found.append("v1")
        return tuple(found)


def _fernet(keys: Sequence[str]) -> Any:
    from cryptography.fernet import Fernet, MultiFernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def derive(key: str) -> Fernet:
        raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
        return Fernet(base64.urlsafe_b64encode(raw))

    return MultiFernet([derive(key) for key in keys])


def seal_plan(plan: ReminderPlan, *keys: str) -> str:
    """The plan encrypted and authenticated under the first key (a Fernet token).

    :raises ValueError: no key (``[ecall] callback_signing_keys`` is not set).
    """
    if not keys:
        raise ValueError("[ecall] callback_signing_keys is not set: no reminder plan can be sealed")
    body = {"v": _VERSION, **asdict(plan)}
    return str(_fernet(keys).encrypt(json.dumps(body).encode()).decode("ascii"))


def open_plan(sealed: str, keys: Sequence[str]) -> ReminderPlan:
    """The plan a :func:`seal_plan` token holds, opened with any of ``keys``.

    :raises PlanUnreadable: no key opens it, or it is not a plan of this version.
    """
    from cryptography.fernet import InvalidToken

    if not keys:
        raise PlanUnreadable("no key to open the reminder plan")
    try:
        body = json.loads(_fernet(keys).decrypt(sealed.encode("ascii")))
    except (InvalidToken, ValueError, UnicodeError):
        raise PlanUnreadable("no configured key opens the reminder plan") from None
    if not isinstance(body, dict) or body.pop("v", None) != _VERSION:
        raise PlanUnreadable("the reminder plan is of another version")
    try:
        for name in ("options", "sms_to", "voice_to"):
            body[name] = tuple(str(item) for item in body[name])
        return ReminderPlan(**body)
    except (KeyError, TypeError):
        raise PlanUnreadable("the reminder plan does not decode") from None
