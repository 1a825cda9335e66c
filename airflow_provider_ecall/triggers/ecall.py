"""eCall triggers: :class:`EcallDeliveryTrigger` waits in the triggerer until eCall reports a
job's recipients final; waits for the same connection share one ``Api/State`` poller.
:class:`EcallInboundSmsTrigger` turns inbound SMS into asset events and
:class:`EcallReplyTrigger` waits for one reply; both share one drain of the inbound cache.

Each trigger lives in a private module of its own; this module only names them.
"""

from __future__ import annotations

from airflow_provider_ecall.triggers._delivery import EcallDeliveryTrigger
from airflow_provider_ecall.triggers._inbound import EcallInboundSmsTrigger, EcallReplyTrigger

__all__ = ["EcallDeliveryTrigger", "EcallInboundSmsTrigger", "EcallReplyTrigger"]
