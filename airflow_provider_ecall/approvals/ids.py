"""Which request an SMS is about: its JobID and its short code, both from the task
instance id of the waiting human-in-the-loop task.

Airflow 3 gives every try of a task instance a new id, and keeps one human-in-the-loop
request per id: a JobID or code therefore names one request of one try, and an answer to
an earlier try finds no waiting request.

>>> job = request_job_id("0199b6a1-1f0e-7c6e-9a51-36a0f7c1d2e3", "n")
>>> job
'hitl-0199b6a11f0e7c6e9a5136a0f7c1d2e3-n'
>>> request_of(job + "-2")
'0199b6a1-1f0e-7c6e-9a51-36a0f7c1d2e3'
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Final

#: The ``answer`` placeholder for "the receiver's signed URL for answers to this request":
#: the send puts in a URL signed for its JobID and the kind ``approval``.
APPROVAL: Final = "ecall:approval"
#: Every approval send's JobID starts with this.
JOB_PREFIX: Final = "hitl-"
#: The letters of a short code: no 0/O, 1/I/L, so that a code read out or typed survives.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 4
_SEND: Final = re.compile(r"[a-z][0-9]{0,3}", re.ASCII)
_JOB: Final = re.compile(rf"{JOB_PREFIX}([0-9a-f]{{32}})-[a-z][0-9]{{0,3}}(?:-[0-9]+)?", re.ASCII)


def request_job_id(ti_id: str, send: str) -> str:
    """The JobID of one send about a request (≤ 50 characters with a batch suffix).

    :param ti_id: the waiting task instance's id (a UUID).
    :param send: which send: ``"n"`` the request, ``"r1"``… reminders, ``"v1"`` the voice
        escalation, ``"c1"``… confirmations.
    :raises ValueError: ``ti_id`` is not a UUID, or ``send`` is not a letter and ≤ 3 digits.
    """
    if not _SEND.fullmatch(send):
        raise ValueError(f"send {send!r} must be a letter and at most 3 digits")
    return f"{JOB_PREFIX}{uuid.UUID(ti_id).hex}-{send}"


def request_of(job_id: str | None) -> str | None:
    """The task instance id a JobID of :func:`request_job_id` names (or one of its batches);
    None for any other JobID."""
    match = _JOB.fullmatch(job_id or "")
    return None if match is None else str(uuid.UUID(match.group(1)))


def short_code(ti_id: str) -> str:
    """The request's short code (4 letters of :data:`CODE_ALPHABET`), for replies that
    arrive without a JobID: a digest of the task instance id."""
    digest = int.from_bytes(hashlib.sha256(str(uuid.UUID(ti_id)).encode()).digest()[:8], "big")
    letters = []
    for _ in range(CODE_LENGTH):
        digest, index = divmod(digest, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return "".join(letters)
