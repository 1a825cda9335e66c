"""Notifiers that send an eCall SMS, fax or voice alert from a task or DAG callback.

Use them as ``on_failure_callback``, ``on_success_callback``, ``on_retry_callback`` of a task
or a DAG, alone or in a list; one instance may sit in ``default_args`` and serve every task.
Each call renders a *copy* of the notifier, so the templates stay as written for the next
task. Alerts do not fail on content: a missing or blank text becomes the default alert text
of the kind; texts are cut to what the kind carries (SMS: 10 pages) with an ellipsis.

>>> on_failure_callback = EcallSmsNotifier(address="+41791112233")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.utils.compat import (
    DAG,
    BaseNotifier,
    Context,
    airflow_at_least,
    require_airflow,
)
from airflow_provider_ecall.utils.context import context_timezone
from airflow_provider_ecall.utils.fields import FAX, SMS, VOICE

if TYPE_CHECKING:
    import jinja2
    from typing_extensions import Unpack

    from airflow_provider_ecall.client.messages import AddressInput, DateInput
    from airflow_provider_ecall.client.results import SendResult
    from airflow_provider_ecall.notifications._policy import AlertOptions, AlertPolicy
    from airflow_provider_ecall.utils.fields import KindSpec, SendOptions

    #: Rendered field values by name.
    Fields = dict[str, Any]


__all__ = [
    "EcallFaxNotifier",
    "EcallNotifier",
    "EcallSmsNotifier",
    "EcallVoiceNotifier",
    "send_ecall_fax_notification",
    "send_ecall_sms_notification",
    "send_ecall_voice_notification",
]

#: The awaitable notifier (deadline alerts run it in the triggerer) and its first release.
AWAITABLE_FEATURE: Final = "the awaitable notifier (deadline alerts)"
AWAITABLE_SINCE: Final = "3.1"

#: Fields whose failed template must not cost the alert, and what is done instead.
_FALLBACKS: Final = {
    "message": "sending the default alert text instead",
    "dedup_key": "sending it without storm control",
}

#: ``{{ exception }}`` of a failed task whose callback got no exception from Airflow.
ERROR_NOT_GIVEN: Final = "error not given to callbacks by this Airflow run (see the task log)"


def missing_exception(context: Context) -> str | None:
    """The ``exception`` template key where Airflow's context has none, so the documented
    key exists on every version: Airflow 3.0 to 3.2 give task callbacks none under
    ``airflow dags test`` / ``dag.test()`` (a real worker run does; 2.11 and 3.3 do in both),
    and DAG-level callbacks have none anywhere. None, as Airflow gives on success, unless
    the task instance failed.
    """
    state = str(getattr(context.get("ti"), "state", "") or "").lower()
    return ERROR_NOT_GIVEN if state.endswith(("failed", "up_for_retry")) else None


class EcallNotifier(BaseNotifier):
    """Base of the eCall notifiers: render a copy, build the alert, send it.

    Each kind's notifier takes the message fields of its kind (see the operator of the same
    kind) and keeps each as an attribute; all text fields are templated. ``message``
    defaults to an alert text built from the context (DAG, task, run, try, a short error,
    the log link). The base keeps ``address`` and ``job_id`` (it checks them) and the alert
    policy options (see docs/alerting.md):

    :param ecall_conn_id: the ``ecall`` connection. (templated)
    :param address: the recipients (required). (templated)
    :param job_id: the alert's JobID; default: one derived from the failure. (templated)
    :param dedup_key: storm control: at most one alert per rendered key per
        ``dedup_window`` (default 30 minutes), across tasks, runs and workers. (templated)
    :param dedup_window: a ``timedelta``.
    :param quiet_hours: ``"22:00-07:00"``: a non-urgent alert raised inside is scheduled for
        the end of the window; ``quiet_hours_timezone`` names the zone (default the DAG's).
    :param urgent: send at once even in quiet hours.
    :param max_attempts: sends of one alert at most when eCall fails passingly (default 3).
    :param max_retry_time: no new attempt after this long (``timedelta``, default 30 s).
    :param mask_recipients: register the resolved numbers with Airflow's secret masker so
        logs and rendered fields show ``***`` (default True).
    """

    spec: ClassVar[KindSpec]
    # The fields every kind has (each subclass assigns ``message`` and ``send_date``, with
    # those of its kind; ``address`` and ``job_id`` are checked and kept here).
    address: AddressInput
    message: str | None
    job_id: str | None
    send_date: DateInput | None

    def __init__(
        self,
        *,
        address: AddressInput,
        job_id: str | None,
        ecall_conn_id: str,
        context: Context | None,
        **options: Unpack[AlertOptions],
    ):
        #: The alert policy, checked here (a typo fails the DAG parse); None: the defaults,
        #: made at send time, so a DAG file without policy options does not import the
        #: policy code on every parse.
        self.policy: AlertPolicy | None = None
        if options:
            from airflow_provider_ecall.notifications._policy import ALERT_OPTIONS, policy_from

            unknown = sorted(set(options) - ALERT_OPTIONS)
            if unknown:
                raise TypeError(f"{type(self).__name__} got unknown argument(s): {unknown}")
            self.policy = policy_from(options)
        if airflow_at_least(AWAITABLE_SINCE):
            super().__init__(context)  # Deadline alerts pass the context here (triggerer)
        else:
            if context is not None:
                require_airflow(AWAITABLE_FEATURE, AWAITABLE_SINCE)
            super().__init__()
        self.ecall_conn_id = ecall_conn_id
        self.dedup_key = options.get("dedup_key")
        if address in (None, "", [], ()):
            raise EcallValidationError("address", "is required: a number, list or template")
        if self.dedup_key is not None and job_id is not None:
            raise EcallValidationError("dedup_key", "give a dedup_key or a job_id, not both")
        self.address = address
        self.job_id = job_id

    # -- copy-on-render ------------------------------------------------------------------

    def __call__(self, *args: object) -> None:
        """Render and send on a copy: the templates of this instance stay unrendered."""
        BaseNotifier.__call__(copy.copy(self), *args)

    def __await__(self) -> Generator[object, None, None]:
        """Awaitable form (triggerer): also works on a copy.

        :raises AirflowVersionError: before Airflow 3.1, which has no awaitable notifiers.
        """
        require_airflow(AWAITABLE_FEATURE, AWAITABLE_SINCE)
        work = copy.copy(self)
        work.context = copy.copy(self.context)
        generator: Generator[object, None, None] = BaseNotifier.__await__(work)
        return generator

    def get_template_env(self, dag: DAG | None = None) -> jinja2.Environment:
        """The DAG's Jinja environment, or a sandboxed one when the callback got a DAG
        object without one (a SerializedDAG under ``airflow dags test``, apache/airflow#64649).
        """
        if dag is not None and not hasattr(dag, "get_template_env"):
            self.log.info("%s has no template environment: using a sandboxed one", type(dag))
            dag = None
        env: jinja2.Environment = super().get_template_env(dag=dag)
        return env

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render each field in turn; a ``message`` template that fails in this context is
        replaced by the default alert text instead of losing the alert."""
        env = jinja_env or self.get_template_env(dag=context.get("dag"))
        if "exception" not in context:
            context = cast("Context", {**context, "exception": missing_exception(context)})
        for name in self.template_fields:
            value = getattr(self, name)
            if value is None or value == "":
                continue
            try:
                setattr(self, name, self.render_template(value, context, env))
            except Exception as exc:
                if name not in _FALLBACKS:
                    raise
                self.log.error(
                    "eCall %s alert: the %s template failed (%s: %s); %s",
                    self.spec.kind,
                    name,
                    type(exc).__name__,
                    exc,
                    _FALLBACKS[name],
                )
                setattr(self, name, None)

    # -- sending -------------------------------------------------------------------------

    def notify(self, context: Context) -> None:
        """Send the alert (call on a rendered instance; Airflow's ``__call__`` does).

        :raises EcallError: the alert was lost, after one ERROR line saying why and what to
            check.
        """
        # Imported here: DAG files import this module on every parse; alerts are built at send.
        from airflow_provider_ecall.notifications._alerts import sendable
        from airflow_provider_ecall.notifications._dispatch import Alert, alert_facts, deliver
        from airflow_provider_ecall.notifications._policy import policy_from

        fields = {name: getattr(self, name) for name in self.spec.fields}
        fields = {name: value for name, value in fields.items() if value is not None}
        fields["message"] = sendable(self.spec.kind, fields.get("message"), context)
        hook = EcallHook(ecall_conn_id=self.ecall_conn_id)
        zone = context_timezone(context)

        def send(values: dict[str, Any], check: bool) -> SendResult:
            return self._send(hook, values, truncate=True, skip_existing=check, timezone=zone)

        key = None if self.dedup_key is None else str(self.dedup_key)
        alert = Alert(self.spec.kind, fields, key, self.ecall_conn_id)
        policy = self.policy or policy_from({})
        deliver(send, hook, alert, policy, context, facts=alert_facts(context), log=self.log)

    def _send(self, hook: EcallHook, fields: Fields, **options: Unpack[SendOptions]) -> SendResult:
        """Send the rendered fields with the hook method of this kind."""
        raise NotImplementedError

    async def async_notify(self, context: Context) -> None:
        """Send the alert without blocking the event loop (in a worker thread).

        :raises AirflowVersionError: before Airflow 3.1, which has no awaitable notifiers.
        """
        require_airflow(AWAITABLE_FEATURE, AWAITABLE_SINCE)
        await asyncio.to_thread(self.notify, context)


class EcallSmsNotifier(EcallNotifier):
    """Send an SMS alert. Takes the arguments of
    :class:`~airflow_provider_ecall.operators.ecall.EcallSmsOperator` (text fields
    templated; ``message`` is always text, never a template file name) except ``truncate``:
    alert texts are always cut to the 10-page limit.
    ``message`` defaults to a short alert: DAG, task, state, try, run, error, log link.
    """

    spec = SMS
    template_fields: Sequence[str] = (
        "address",
        "message",
        "job_id",
        "send_date",
        "notification_address",
        "callback",
        "answer",
        "msg_type",
        "ecall_conn_id",
        "dedup_key",
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str | None = None,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        notification_address: AddressInput | None = None,
        notification_level: int | str | None = None,
        callback: str | None = None,
        answer: str | None = None,
        msg_type: str | None = None,
        no_log: bool = False,
        ecall_conn_id: str = EcallHook.default_conn_name,
        context: Context | None = None,
        **options: Unpack[AlertOptions],
    ) -> None:
        super().__init__(
            address=address, job_id=job_id, ecall_conn_id=ecall_conn_id, context=context, **options
        )
        self.message = message
        self.send_date = send_date
        self.notification_address = notification_address
        self.notification_level = notification_level
        self.callback = callback
        self.answer = answer
        self.msg_type = msg_type
        self.no_log = no_log

    def _send(self, hook: EcallHook, fields: Fields, **options: Unpack[SendOptions]) -> SendResult:
        return hook.send_sms(**fields, **options)


class EcallFaxNotifier(EcallNotifier):
    """Send a fax alert. Takes the arguments of
    :class:`~airflow_provider_ecall.operators.ecall.EcallFaxOperator` (text fields
    templated, ``message`` never a file name); ``message`` defaults to a full alert page
    with the error at length.
    """

    spec = FAX
    template_fields: Sequence[str] = (
        "address",
        "message",
        "job_id",
        "send_date",
        "calling_number",
        "subject",
        "header_id",
        "header_info",
        "ecall_conn_id",
        "dedup_key",
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str | None = None,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        calling_number: str | None = None,
        subject: str | None = None,
        header_id: str | None = None,
        header_info: str | None = None,
        number_of_retries: int | str | None = None,
        retry_interval_in_minutes: int | str | None = None,
        ecall_conn_id: str = EcallHook.default_conn_name,
        context: Context | None = None,
        **options: Unpack[AlertOptions],
    ) -> None:
        super().__init__(
            address=address, job_id=job_id, ecall_conn_id=ecall_conn_id, context=context, **options
        )
        self.message = message
        self.send_date = send_date
        self.calling_number = calling_number
        self.subject = subject
        self.header_id = header_id
        self.header_info = header_info
        self.number_of_retries = number_of_retries
        self.retry_interval_in_minutes = retry_interval_in_minutes

    def _send(self, hook: EcallHook, fields: Fields, **options: Unpack[SendOptions]) -> SendResult:
        return hook.send_fax(**fields, **options)


class EcallVoiceNotifier(EcallNotifier):
    """Call with a spoken alert. Takes the arguments of
    :class:`~airflow_provider_ecall.operators.ecall.EcallVoiceOperator` (text fields
    templated, ``message`` never a file name); ``message`` defaults to a short spoken
    alert without links.
    """

    spec = VOICE
    template_fields: Sequence[str] = (
        "address",
        "message",
        "job_id",
        "send_date",
        "language",
        "from_text",
        "ecall_conn_id",
        "dedup_key",
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str | None = None,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        language: str | None = None,
        from_text: str | None = None,
        ecall_conn_id: str = EcallHook.default_conn_name,
        context: Context | None = None,
        **options: Unpack[AlertOptions],
    ) -> None:
        super().__init__(
            address=address, job_id=job_id, ecall_conn_id=ecall_conn_id, context=context, **options
        )
        self.message = message
        self.send_date = send_date
        self.language = language
        self.from_text = from_text

    def _send(self, hook: EcallHook, fields: Fields, **options: Unpack[SendOptions]) -> SendResult:
        return hook.send_voice(**fields, **options)


send_ecall_sms_notification = EcallSmsNotifier
send_ecall_fax_notification = EcallFaxNotifier
send_ecall_voice_notification = EcallVoiceNotifier
