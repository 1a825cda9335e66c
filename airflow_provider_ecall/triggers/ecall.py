"""eCall triggers: :class:`EcallDeliveryTrigger` waits in the triggerer until eCall reports a
job's recipients final; waits for the same connection share one ``Api/State`` poller.
:class:`EcallInboundSmsTrigger` turns inbound SMS into asset events and
:class:`EcallReplyTrigger` waits for one reply; both share one drain of the inbound cache.

Each trigger lives in a module of its own; this module names them for DAG authors. The inbound
triggers (Airflow 3.0+) load on first use, so the delivery trigger imports on 2.11 too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_ecall.triggers._delivery import EcallDeliveryTrigger
from airflow_provider_ecall.utils.lazy import lazy_attributes

if TYPE_CHECKING:
    from airflow_provider_ecall.triggers.inbound import EcallInboundSmsTrigger, EcallReplyTrigger

__all__ = ["EcallDeliveryTrigger", "EcallInboundSmsTrigger", "EcallReplyTrigger"]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    globals(),
    {
        "EcallInboundSmsTrigger": "airflow_provider_ecall.triggers.inbound",
        "EcallReplyTrigger": "airflow_provider_ecall.triggers.inbound",
    },
)
