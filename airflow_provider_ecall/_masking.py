"""Resolved recipient numbers registered with Airflow's secret masker.

Once registered, Airflow shows a number as ``***`` wherever it redacts: task logs, the
rendered template fields it stores and shows, and the log lines of anything else in the
process. Only phone numbers and e-mail addresses are registered: an address-book name such
as ``Oncall`` is not personal data, and masking it would blank that word in every log line.
"""

from __future__ import annotations

import re
from typing import Final

from airflow_provider_ecall._compat import mask_secret

_NUMBER: Final = re.compile(r"^\+?[\d /().-]{6,}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+$")


def personal(address: str) -> bool:
    """Whether a recipient is a phone number or an e-mail address."""
    return bool(_NUMBER.match(address) or _EMAIL.match(address))


def mask_recipients(*fields: object) -> int:
    """Register every phone number and e-mail address of the given address fields.

    :param fields: rendered address fields: ``"a;b"``, a list of them, or None.
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
