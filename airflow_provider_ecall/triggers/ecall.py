"""eCall triggers: :class:`EcallDeliveryTrigger` waits in the triggerer until eCall reports a
job's recipients final; waits for the same connection share one ``Api/State`` poller.

Each trigger lives in a private module of its own; this module only names them.
"""

from __future__ import annotations

from airflow_provider_ecall.triggers._delivery import EcallDeliveryTrigger

__all__ = ["EcallDeliveryTrigger"]
