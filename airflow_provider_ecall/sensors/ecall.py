"""``EcallDeliverySensor``: wait until eCall reports sent messages delivered (or final).

>>> send = EcallSmsOperator(task_id="send", address="+41790000002", message="Report ready")
>>> EcallDeliverySensor(task_id="delivered", job_id=send.output, deferrable=True)  # doctest: +SKIP

In ``poke`` and ``reschedule`` mode the worker asks ``Api/State`` every ``poke_interval``; in
deferrable mode the task waits in the triggerer, where waits of one connection share one
poller (one request per interval for all of them). Every mode waits the way
:mod:`airflow_provider_ecall.delivery.wait` does: a passing failure of a query (a 5xx, a
timeout) is logged and the wait goes on; a refusal fails the task.

``EcallReplySensor`` (module ``_reply``) waits, deferred, for an SMS reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_ecall.delivery import wait
from airflow_provider_ecall.delivery.terms import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    check_require,
)
from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.sensors._reply import (
    EcallReplySensor,
    sms_senders,
    unanswerable_sender,
)
from airflow_provider_ecall.utils.compat import (
    AirflowSkipException,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    default_deferrable,
)

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow_provider_ecall.client.delivery import Require
    from airflow_provider_ecall.client.planner import QueryPlanner
    from airflow_provider_ecall.client.results import JsonValue

__all__ = ["EcallDeliverySensor", "EcallReplySensor", "sms_senders", "unanswerable_sender"]


class EcallDeliverySensor(BaseSensorOperator):
    """Wait until every recipient of one or more eCall jobs is delivered (or final).

    Succeeds with the per-recipient outcome (numbers masked) as its XCom value; fails with
    an error that names each failed recipient (masked) and eCall's status text.

    :param job_id: the JobID(s): one id, a list, ``,``-separated ids, or the send task's
        XCom (``send.output``; a mapped send's list of them works too). (templated)
    :param ecall_conn_id: the ``ecall`` connection. (templated)
    :param require: ``"delivered"`` — every recipient delivered, else the task fails once all
        are final; or ``"final"`` — any final state is enough (the XCom tells which).
    :param sent_after: the earliest moment the jobs were sent (ISO 8601); default the DAG
        run's start. Lets many jobs be asked in one time-window query. (templated)
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poke_interval: seconds between status queries (default 60).
    :param timeout: seconds (or a ``timedelta``) before the task fails (default one hour).
    :param mode: ``"poke"`` or ``"reschedule"`` when not deferrable.
    """

    template_fields: Sequence[str] = ("job_id", "ecall_conn_id", "sent_after")
    ui_color = "#c8e6f5"

    def __init__(
        self,
        *,
        job_id: object,
        ecall_conn_id: str = EcallHook.default_conn_name,
        require: Require = "delivered",
        sent_after: str | None = None,
        deferrable: bool | None = None,
        poke_interval: timedelta | float = DEFAULT_POLL_INTERVAL,
        timeout: timedelta | float | None = DEFAULT_TIMEOUT,
        **kwargs: object,
    ) -> None:
        super().__init__(
            poke_interval=poke_interval,
            timeout=timeout,
            **cast("dict[str, Any]", kwargs),
        )
        self.job_id = job_id
        self.ecall_conn_id = ecall_conn_id
        self.require = check_require(require)
        self.sent_after = sent_after
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    @cached_property
    def hook(self) -> EcallHook:
        """The hook of ``ecall_conn_id`` (made after rendering)."""
        return EcallHook(ecall_conn_id=self.ecall_conn_id)

    @cached_property
    def _planner(self) -> QueryPlanner:
        """The wait's query planner, kept from poke to poke in poke mode (a rescheduled
        poke starts afresh: it knows only its own jobs)."""
        from airflow_provider_ecall.client.planner import QueryPlanner

        return QueryPlanner()

    def _sent_after(self, context: Context) -> str | None:
        return self.sent_after or wait.sent_after_of(context)

    def execute(self, context: Context) -> Any:  # noqa: RET503 - defer() raises
        """Poke in the worker, or defer to :class:`EcallDeliveryTrigger`."""
        if not self.deferrable:
            return super().execute(context)
        job_ids = wait.job_ids_from(self.job_id)
        self.log.info("Waiting in the triggerer for eCall job(s) %s", ", ".join(job_ids[:5]))
        self.defer(
            trigger=wait.make_trigger(
                job_ids=job_ids,
                ecall_conn_id=self.ecall_conn_id,
                require=self.require,
                poll_interval=float(self.poke_interval),
                timeout=self.timeout,
                sent_after=self._sent_after(context),
            ),
            method_name="execute_complete",
        )

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None
    ) -> dict[str, JsonValue]:
        """Turn the trigger's event into the XCom value, or the task's failure; after a
        callback's hint that is not final yet, wait again."""
        try:
            outcome = wait.resume(event, self.hook.get_client)
        except Exception as exc:
            if self.soft_fail:
                raise AirflowSkipException(f"soft_fail: {exc}") from exc
            raise
        if not isinstance(outcome, dict):
            self.defer(trigger=outcome, method_name="execute_complete")
        return outcome

    def poke(self, context: Context) -> PokeReturnValue | bool:
        """One status query for every job; done when the requirement decides. A query that
        failed in passing counts as "not yet" (:func:`.wait.query_once`)."""
        job_ids = wait.job_ids_from(self.job_id)
        report = wait.query_once(
            self.hook.get_client(), job_ids, self._sent_after(context), self._planner
        )
        if report is None:
            return False
        verdict = report.verdict(self.require)
        if verdict == "waiting":
            self.log.info("eCall delivery: %s", report.summary())
            return False
        return PokeReturnValue(is_done=True, xcom_value=wait.finish(verdict, report))
