"""``wait_for_delivery``: the options of a send operator that waits for eCall to report its
message final, and the wait itself.

After the send, the task either polls ``Api/State`` in the worker or (``deferrable``) defers
to :class:`~airflow_provider_ecall.triggers.ecall.EcallDeliveryTrigger` — the same trigger
the delivery sensor uses, so waits of many tasks (a mapped send, say) share one poller in
the triggerer. Resuming runs ``execute_complete`` only: nothing is sent again. The waiting
itself, its defaults and checks belong to :mod:`airflow_provider_ecall.delivery`; this
module only holds the operator's choice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from airflow_provider_ecall.delivery.terms import check_poll_interval, check_timeout
from airflow_provider_ecall.utils.compat import default_deferrable

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient
    from airflow_provider_ecall.client.results import JsonValue
    from airflow_provider_ecall.triggers.ecall import EcallDeliveryTrigger
    from airflow_provider_ecall.utils.compat import Context


class DeliveryWait(NamedTuple):
    """How a send operator waits for delivery. (A NamedTuple, and the waiting code imported
    when a task waits: DAG files import this module on every parse.)

    :param enabled: ``wait_for_delivery``.
    :param timeout: ``delivery_timeout``.
    :param poll_interval: ``delivery_poll_interval``.
    :param deferrable: wait in the triggerer.
    """

    enabled: bool
    timeout: timedelta | float
    poll_interval: float
    deferrable: bool

    @classmethod
    def of(
        cls,
        *,
        wait_for_delivery: bool,
        delivery_timeout: timedelta | float,
        delivery_poll_interval: float,
        deferrable: bool | None,
    ) -> DeliveryWait:
        """Check the operator's arguments (at DAG parse)."""
        timeout = check_timeout("delivery_timeout", delivery_timeout)
        interval = check_poll_interval("delivery_poll_interval", delivery_poll_interval)
        chosen = default_deferrable() if deferrable is None else deferrable
        return cls(bool(wait_for_delivery), timeout, interval, chosen)

    def trigger(self, context: Context, conn_id: str, job_ids: list[str]) -> EcallDeliveryTrigger:
        """The trigger to defer to."""
        from airflow_provider_ecall.delivery import wait

        return wait.make_trigger(
            job_ids=job_ids,
            ecall_conn_id=conn_id,
            require="delivered",
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            sent_after=wait.sent_after_of(context),
        )

    def in_worker(
        self, context: Context, client: EcallClient, job_ids: list[str]
    ) -> dict[str, JsonValue]:
        """Poll in this process until the jobs are final; the delivery outcome."""
        from airflow_provider_ecall.delivery import wait

        return wait.wait_in_worker(
            client,
            job_ids,
            sent_after=wait.sent_after_of(context),
            poll_interval=self.poll_interval,
            timeout=self.timeout,
        )
