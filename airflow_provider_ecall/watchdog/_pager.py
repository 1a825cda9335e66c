"""Sending one page with a deterministic JobID, at most once (no Airflow import).

eCall's records are the only state: ``Api/State`` is asked for the JobID before the send,
inside a lock shared by every process on this machine, so two watchdogs (or a restarted
one) that mean the same page send it once. Watchdogs on two machines do not share the lock:
run the second with a longer grace (docs/watchdog.md).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from airflow_provider_ecall.client.privacy import mask_addresses
from airflow_provider_ecall.notifications.hostlock import host_lock

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient

log = logging.getLogger("airflow_provider_ecall.watchdog")


def lock(name: str) -> contextlib.AbstractContextManager[bool]:
    """The machine-wide lock of ``name`` (a JobID, or an incident's component key)."""
    return host_lock(name, timeout=60)


class Pager:
    """Pages through one eCall client.

    :param client: the eCall client.
    """

    def __init__(self, client: EcallClient) -> None:
        self.client = client

    def page(
        self,
        kind: Literal["sms", "voice"],
        to: Sequence[str],
        text: str,
        job_id: str,
        *,
        locked: bool = False,
    ) -> bool:
        """Send ``text`` unless eCall knows ``job_id`` already.

        :param locked: the caller holds the machine-wide lock already (see :func:`lock`).

        :return: True when sent now, False when eCall had it.
        :raises EcallError: eCall refused or did not answer (nothing known to be sent).
        """
        from airflow_provider_ecall.client.messages import SmsMessage, VoiceMessage

        cls = SmsMessage if kind == "sms" else VoiceMessage
        message = cls(address=list(to), message=text, job_id=job_id, truncate=True)
        with contextlib.nullcontext() if locked else lock(job_id):
            result = self.client.send(message, skip_existing=True)
        if result.skipped:
            log.info("page %s exists in eCall already: not sent again", job_id)
            return False
        log.info("paged %s by %s (job %s)", mask_addresses(to), kind, job_id)
        return True
