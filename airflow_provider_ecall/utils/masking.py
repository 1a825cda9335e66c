"""Resolved recipients registered with Airflow's secret masker.

Once registered, Airflow shows a value as ``***`` wherever it redacts: task logs, the
rendered template fields it stores and shows, and the log lines of anything else in the
process. Registered are phone numbers, e-mail addresses and ``http(s)`` URLs (a callback
URL may carry a token): an address-book name such as ``Oncall`` is not personal data, and
masking it would blank that word in every log line. Which fields hold recipients is said
once, by each kind's :attr:`~airflow_provider_ecall.utils.fields.KindSpec.recipients`.
"""

from __future__ import annotations

import re
from typing import Final

from airflow_provider_ecall.utils.compat import mask_secret

_NUMBER: Final = re.compile(r"^\+?[\d /().-]{6,}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+$")
_URL: Final = re.compile(r"^https?://\S+$", re.IGNORECASE)


def personal(address: str) -> bool:
    """Whether a recipient is a phone number, an e-mail address or a URL."""
    return bool(_NUMBER.match(address) or _EMAIL.match(address) or _URL.match(address))


def mask_recipients(*fields: object) -> int:
    """Register every phone number, e-mail address and URL of the given recipient fields.

    :param fields: rendered recipient fields: ``"a;b"``, a list of them, or None.
    :return: how many values were registered.
    """
    count = 0
    for field in fields:
        items = field.split(";") if isinstance(field, str) else field
        if not isinstance(items, (list, tuple)):
            continue
        for item in items:
            value = str(item).strip()
            if personal(value):
                mask_secret(value)
                count += 1
    return count
