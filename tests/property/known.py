"""Known disagreements between the client's rules and the sandbox, found by these tests.

Each is pinned by a strict-xfail test in ``test_findings.py``; the round-trip properties
skip (``assume``) only these exact cases, so everything else stays covered. When the client
or the sandbox is fixed, the xfail turns into a failure: delete the marker and the entry here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from airflow_provider_ecall.client import FaxMessage, Message
from airflow_provider_ecall.sandbox.handler import MAX_BODY


def offset_out_of_range(moment: object) -> bool:
    """A send date whose offset is a day or more (pendulum parses ``0:0-00100:0`` so);
    ``to_params`` then raises a bare ``ValueError`` from ``isoformat``."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return False
    offset = moment.tzinfo.utcoffset(moment)
    return offset is not None and abs(offset) >= timedelta(hours=24)


def has_second_offset(moment: object) -> bool:
    """A send date whose UTC offset has seconds (``-00:16:08``): not ISO 8601."""
    offset = moment.utcoffset() if isinstance(moment, datetime) else None
    return offset is not None and offset % timedelta(minutes=1) != timedelta(0)


def zero_zero_calling_number_over_16(message: Message) -> bool:
    """A ``00``-prefixed calling number whose digits, the prefix included, exceed 16."""
    number = message.calling_number if isinstance(message, FaxMessage) else None
    return number is not None and number.startswith("00") and sum(map(str.isdigit, number)) > 16


def form_over_sandbox_cap(message: Message) -> bool:
    """A request form over the sandbox's 1 MiB request cap (the client has no length cap)."""
    return len(urlencode(message.to_params())) > MAX_BODY - 1024


def known_disagreement(message: Message) -> str | None:
    """The name of the known disagreement ``message`` runs into, if any."""
    if offset_out_of_range(message.send_date):
        return "send_date offset of a day or more"
    if has_second_offset(message.send_date):
        return "send_date offset with seconds"
    if zero_zero_calling_number_over_16(message):
        return "00 calling number over 16 digits"
    if form_over_sandbox_cap(message):
        return "form over the sandbox's 1 MiB cap"
    return None
