"""The send logic the three eCall operators share: one hook call, typed errors mapped."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from airflow_provider_ecall.client.errors import EcallError, EcallValidationError
from airflow_provider_ecall.delivery.terms import DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT
from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.operators._waiting import DeliveryWait
from airflow_provider_ecall.utils.compat import AirflowFailException, BaseOperator, Context
from airflow_provider_ecall.utils.context import context_timezone, first_try_of_series, task_job_id

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta

    import jinja2

    from airflow_provider_ecall.client.messages import AddressInput, DateInput
    from airflow_provider_ecall.client.results import JsonValue, SendResult
    from airflow_provider_ecall.utils.fields import KindSpec

log = logging.getLogger(__name__)

#: The XCom key that keeps a send's result while the task waits in the triggerer.
SENT_KEY = "ecall_send"


def final_failure(kind: str, exc: EcallError) -> AirflowFailException | None:
    """The ``AirflowFailException`` a task raises for an eCall error that retrying cannot
    help (validation errors and refusals: ``retryable`` False); None for a passing failure,
    which the task raises as it is so that task retries apply."""
    if isinstance(exc, EcallValidationError):
        return AirflowFailException(f"eCall {kind} not sent, invalid {exc.field}: {exc.rule}")
    if not exc.retryable:
        return AirflowFailException(
            f"eCall refused the {kind} ({type(exc).__name__}: {exc}); not retrying"
        )
    return None


class EcallSendOperator(BaseOperator):
    """Base of the eCall operators: renders the message fields, sends them in one hook call.

    Subclasses set ``spec`` and their literal ``template_fields``, take the fields of
    their kind as keyword arguments and keep each as an attribute of the same name.

    :param ecall_conn_id: the ``ecall`` connection. (templated)
    :param truncate: shorten a text over its kind's limit (SMS: the vendor's 10 pages; fax
        50,000 and voice 5,000 characters) with an ellipsis instead of failing.
    :param mask_recipients: register the rendered phone numbers and e-mail addresses with
        Airflow's secret masker, so the stored rendered fields and the logs show ``***``
        (default True; False shows them in full).
    :param wait_for_delivery: after sending, wait until eCall reports every recipient
        delivered; the task fails (without retries, nothing is resent) when one is not, or
        when ``delivery_timeout`` passes first. The XCom value gains a ``delivery`` entry:
        the per-recipient outcome, numbers masked.
    :param delivery_timeout: how long to wait for delivery (seconds or ``timedelta``).
    :param delivery_poll_interval: seconds between status queries while waiting.
    :param deferrable: wait in the triggerer instead of the worker (default
        ``[operators] default_deferrable``); waits of one connection share one poller there.
    """

    spec: ClassVar[KindSpec]
    #: The hook method that sends the kind (``EcallHook.send_sms``, …).
    send_with: ClassVar[Callable[..., SendResult]]
    # The fields every kind has (each subclass assigns them, with those of its kind).
    address: AddressInput
    message: str
    job_id: str | None
    send_date: DateInput | None
    template_ext = (".txt", ".j2")
    ui_color = "#c8e6f5"

    def __init__(
        self,
        *,
        ecall_conn_id: str = EcallHook.default_conn_name,
        truncate: bool = False,
        mask_recipients: bool = True,
        wait_for_delivery: bool = False,
        delivery_timeout: timedelta | float = DEFAULT_TIMEOUT,
        delivery_poll_interval: float = DEFAULT_POLL_INTERVAL,
        deferrable: bool | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**cast("dict[str, Any]", kwargs))
        self.ecall_conn_id = ecall_conn_id
        self.truncate = truncate
        self.mask_recipients = mask_recipients
        self.wait_for_delivery = wait_for_delivery
        self.delivery_timeout = delivery_timeout
        self.delivery_poll_interval = delivery_poll_interval
        self._delivery = DeliveryWait.of(
            wait_for_delivery=wait_for_delivery,
            delivery_timeout=delivery_timeout,
            delivery_poll_interval=delivery_poll_interval,
            deferrable=deferrable,
        )
        self.deferrable = self._delivery.deferrable

    def resolve_template_files(self) -> None:
        """Read a template file named by ``message`` (the only field that may name one)."""
        message = self.message
        if isinstance(message, str) and message.endswith(tuple(self.template_ext)):
            env = self.get_template_env()
            try:
                self.message = env.loader.get_source(env, message)[0]  # type: ignore[union-attr]
            except Exception:  # rendering reports a missing file with its name
                self.log.debug("eCall message template %s not read at parse time", message)
        self.prepare_template()

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        """Render like Airflow, except that only ``message`` may name a template file: a
        subject, address or other text that merely ends in ``.txt``/``.j2`` is rendered as
        the text it is. A rendered recipient field's numbers, addresses and URLs (the
        kind's :attr:`~airflow_provider_ecall.utils.fields.KindSpec.recipients`) are masked
        (``mask_recipients``) before Airflow stores the rendered fields.

        This method is not told which field it renders. It relies on how Airflow calls it:
        once per template field, with that attribute's own value object
        (``getattr(operator, name)`` in ``_do_render_template_fields``, also for mapped tasks,
        which render through the unmapped operator), so ``content is self.message`` (or
        ``self.address``) holds exactly while that field is rendered. Another field holding
        the very same string object would count as it too; for ``message`` that needs both
        to name the same file, one that :meth:`resolve_template_files` could not read. If
        Airflow stops calling it this way, ``test_only_message_may_name_a_template_file``
        (tests/airflow/test_operators.py) fails.
        """
        rendering_message = content is self.message
        if (
            isinstance(content, str)
            and content.endswith(tuple(self.template_ext))
            and not rendering_message
        ):
            env = jinja_env or self.get_template_env()
            rendered = self._render(env.from_string(content), context)
        else:
            rendered = super().render_template(content, context, jinja_env, seen_oids)
        recipients = [getattr(self, name) for name in self.spec.recipients]
        if self.mask_recipients and any(content is field for field in recipients):
            from airflow_provider_ecall.utils.masking import mask_recipients

            mask_recipients(rendered)
        return rendered

    @cached_property
    def hook(self) -> EcallHook:
        """The hook of ``ecall_conn_id`` (created on first use, after rendering)."""
        return EcallHook(ecall_conn_id=self.ecall_conn_id)

    def execute(self, context: Context) -> dict[str, JsonValue]:
        """Send the rendered message; a retry does not resend what eCall already has. With
        ``wait_for_delivery``, wait for the delivery (or defer) before returning.

        :return: :meth:`SendResult.to_dict` — job id(s), counts, result; no recipients —
            and, when waiting, ``delivery``: the per-recipient outcome.
        :raises AirflowFailException: invalid fields, or eCall refused the request.
        :raises EcallError: a passing failure (retryable: task retries apply).
        """
        ti = context["ti"]
        fields = {name: getattr(self, name) for name in self.spec.fields}
        first_try = first_try_of_series(getattr(ti, "max_tries", None), self.retries)
        if not fields.get("job_id"):
            fields["job_id"] = task_job_id(
                ti.dag_id, ti.task_id, context["run_id"], ti.map_index, first_try
            )
        retry = ti.try_number > first_try
        if retry:
            self.log.info(
                "Try %d: asking eCall whether job %s arrived before sending",
                ti.try_number,
                fields["job_id"],
            )
        try:
            result = type(self).send_with(
                self.hook,
                **fields,
                truncate=self.truncate,
                skip_existing=retry,
                timezone=context_timezone(context),
            )
        except EcallError as exc:
            self._log_failure(exc)
            failure = final_failure(self.spec.kind, exc)
            if failure is None:
                raise
            raise failure from exc
        self._log_result(result)
        sent = result.to_dict()
        if not self._delivery.enabled:
            return sent
        job_ids = list(result.job_ids)
        if self._delivery.deferrable:
            # Kept in XCom, not in the deferral's kwargs: `dag.test()` replaces those with
            # the event when it runs the trigger in-line.
            ti.xcom_push(key=SENT_KEY, value=sent)
            trigger = self._delivery.trigger(context, self.ecall_conn_id, job_ids)
            self.defer(trigger=trigger, method_name="execute_complete")
        delivered = self._delivery.in_worker(context, self.hook.get_client(), job_ids)
        return {**sent, "delivery": delivered}

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None
    ) -> dict[str, JsonValue]:
        """Resume after the delivery trigger fired (nothing is sent again): the send result
        with its ``delivery`` outcome, or the failure; after a callback's hint that is not
        final yet, wait again."""
        from airflow_provider_ecall.delivery.wait import resume

        outcome = resume(event, self.hook.get_client)
        if not isinstance(outcome, dict):
            self.defer(trigger=outcome, method_name="execute_complete")
        ti = context["ti"]
        sent = ti.xcom_pull(task_ids=ti.task_id, key=SENT_KEY, map_indexes=ti.map_index)
        return {**(sent or {}), "delivery": outcome}

    def _log_result(self, result: SendResult) -> None:
        if result.skipped:
            self.log.info(
                "eCall %s job %s had reached eCall already: nothing sent again (%d request(s))",
                result.kind,
                result.job_id,
                len(result.batches),
            )
            return
        self.log.info(
            "eCall %s job %s: %d recipient(s), %d request(s) sent, %d skipped, result %s",
            result.kind,
            result.job_id,
            result.recipient_count,
            result.sent_count,
            len(result.batches) - result.sent_count,
            result.batches[-1].result_text,
        )

    def _log_failure(self, exc: EcallError) -> None:
        self.log.error(
            "eCall %s failed: %s (HTTP %s, result code %s, retryable %s)",
            self.spec.kind,
            type(exc).__name__,
            exc.http_status,
            exc.result_code,
            exc.retryable,
        )
        if exc.completed:
            self.log.warning(
                "eCall accepted %d request(s) before the failure (jobs %s); a retry skips them",
                len(exc.completed),
                ", ".join(batch.job_id for batch in exc.completed),
            )
