"""``EcallHITLNotifier``: asks for a human-in-the-loop answer by SMS (Airflow 3.1+).

Put it in ``notifiers=[...]`` of any human-in-the-loop operator (``ApprovalOperator``,
``HITLOperator``, ``HITLBranchOperator``, ``HITLEntryOperator``). When the request is
created it sends one SMS: the subject, a short body, the options numbered, the request's
short code and — when the UI's address is known — a link to its Required Actions page::

    Deploy build 1234 to production?
    Reply with a number (ref K7Q2):
    1 Approve
    2 Reject
    https://airflow.example.com/dags/deploy/runs/.../required_actions?map_index=-1

With ``[ecall] callback_base_url`` and ``callback_signing_keys`` set, the SMS carries an
``Answer`` URL signed for its JobID: eCall forwards the reply to the callback receiver, which
records it as the Airflow user the sender's number maps to (``[ecall] approval_responders``,
see :mod:`airflow_provider_ecall.plugins.approvals`). Nothing about the request fails the
task: a text too long is shortened, a send that fails is logged (the request can still be
answered in the UI).

With ``remind_every`` and/or ``escalate_after`` it also pushes a sealed reminder plan (XCom
``ecall_hitl_reminders``): the api-server, where the callback receiver runs, reminds by SMS
and escalates by a voice call while the request waits, and stops once it is answered (see
:mod:`airflow_provider_ecall.plugins.reminders`).

>>> approve = ApprovalOperator(  # doctest: +SKIP
...     task_id="approve", subject="Deploy?", notifiers=[EcallHITLNotifier(address="+41791112233")]
... )
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.notifications._reminders import (
    Interval,
    check_max_reminders,
    sealing_keys,
    seconds,
)
from airflow_provider_ecall.utils.compat import BaseNotifier, Context, conf, require_airflow

if TYPE_CHECKING:
    from airflow_provider_ecall.approvals.texts import ApprovalRequest
    from airflow_provider_ecall.client.messages import AddressInput

__all__ = ["HITL_FEATURE", "HITL_SINCE", "EcallHITLNotifier"]

#: The feature as users know it, and the first Airflow release that has it.
HITL_FEATURE: Final = "approvals by SMS (EcallHITLNotifier, human-in-the-loop tasks)"
HITL_SINCE: Final = "3.1"


class EcallHITLNotifier(BaseNotifier):
    """Send a human-in-the-loop request by SMS, to be answered by SMS reply.

    :param address: the recipients (numbers or address-book names). (templated)
    :param message: the body to send instead of the task's ``body``. (templated)
    :param base_url: the Airflow UI's address for the Required Actions link; default
        ``[api] base_url``; no link when neither is set. (templated)
    :param max_pages: the most SMS pages the request may take (1-10, default 2); a longer
        one is shortened (body first), never refused.
    :param ecall_conn_id: the ``ecall`` connection. (templated)
    :param remind_every: remind ``address`` by SMS this often while the request waits
        (a timedelta or seconds, at least 10 s); None: no reminders.
    :param escalate_after: call ``escalate_to`` this long after the request while it still
        waits (a timedelta or seconds, at least 10 s); None: no call.
    :param escalate_to: who the escalation calls (default ``address``). (templated)
    :param max_reminders: the most reminders (1-20, default 5).
    :param context: Airflow's context, for the awaitable form (as other notifiers).
    :raises AirflowVersionError: on Airflow before 3.1, when the DAG file is parsed.
    :raises ValueError: no ``address``, a bad ``max_pages``, ``remind_every``,
        ``escalate_after`` or ``max_reminders``, or reminders without
        ``[ecall] callback_signing_keys``.
    """

    template_fields: Sequence[str] = (
        "address",
        "message",
        "base_url",
        "ecall_conn_id",
        "escalate_to",
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str | None = None,
        base_url: str | None = None,
        max_pages: int = 2,
        ecall_conn_id: str = EcallHook.default_conn_name,
        remind_every: Interval = None,
        escalate_after: Interval = None,
        escalate_to: AddressInput | None = None,
        max_reminders: int = 5,
        context: Context | None = None,
    ) -> None:
        require_airflow(HITL_FEATURE, HITL_SINCE)
        super().__init__(context)
        if address in (None, "", [], ()):
            raise ValueError("address is required: a number, list or template")
        if not isinstance(max_pages, int) or not 1 <= max_pages <= 10:
            raise ValueError("max_pages must be a whole number from 1 to 10")
        self.address = address
        self.message = message
        self.base_url = base_url
        self.max_pages = max_pages
        self.ecall_conn_id = ecall_conn_id
        self.remind_every = seconds("remind_every", remind_every)
        self.escalate_after = seconds("escalate_after", escalate_after)
        self.escalate_to = escalate_to
        self.max_reminders = check_max_reminders(max_reminders)
        if self.remind_every is not None or self.escalate_after is not None:
            sealing_keys()  # at parse: reminders without a key would never be sent

    @staticmethod
    def can_remind() -> bool:
        """Whether this process may set ``remind_every`` / ``escalate_after``: a key in
        ``[ecall] callback_signing_keys`` seals their plan (a DAG file can ask before)."""
        try:
            sealing_keys()
        except ValueError:
            return False
        return True

    def __call__(self, *args: object) -> None:
        """Render and send on a copy: the templates of this instance stay unrendered (one
        notifier may serve several tasks)."""
        BaseNotifier.__call__(copy.copy(self), *args)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the fields, then register the recipients with the secrets masker."""
        from airflow_provider_ecall.utils.masking import mask_recipients

        super().render_template_fields(context, jinja_env)
        mask_recipients(self.address, self.escalate_to)

    def request(self, context: Context) -> tuple[str, ApprovalRequest] | None:
        """The waiting request of this context: its task instance id and what the SMS says;
        None (logged) when the task is not a human-in-the-loop task."""
        from airflow_provider_ecall.approvals.ids import short_code
        from airflow_provider_ecall.approvals.texts import ApprovalRequest

        task, ti = context.get("task"), context.get("ti")
        options = getattr(task, "options", None)
        if not options or ti is None or getattr(ti, "id", None) is None:
            self.log.error(
                "EcallHITLNotifier: %s is not a human-in-the-loop task; nothing sent",
                getattr(task, "task_id", task),
            )
            return None
        ti_id = str(ti.id)
        body = self.message if self.message not in (None, "") else getattr(task, "body", None)
        subject = str(getattr(task, "subject", "") or "")
        link = self._link(task, ti)
        request = ApprovalRequest(
            subject,
            None if body is None else str(body),
            tuple(str(o) for o in options),
            short_code(ti_id),
            link,
            bool(getattr(task, "multiple", False)),
        )
        return ti_id, request

    def _link(self, task: object, ti: object) -> str | None:
        base = self.base_url or conf.get("api", "base_url", fallback="") or ""
        make = getattr(task, "generate_link_to_ui", None)
        if not base or make is None:
            return None
        try:
            return str(make(task_instance=ti, base_url=base))
        except Exception as exc:  # the link is a convenience: the request goes without it
            self.log.warning("EcallHITLNotifier: no Required Actions link (%s)", exc)
            return None

    def notify(self, context: Context) -> None:
        """Send the request (Airflow calls it once, when the request is created)."""
        from airflow_provider_ecall.approvals.ids import APPROVAL, request_job_id
        from airflow_provider_ecall.approvals.texts import request_text
        from airflow_provider_ecall.client.privacy import mask_addresses
        from airflow_provider_ecall.hooks.callback_urls import callback_urls_configured

        found = self.request(context)
        if found is None:
            return
        ti_id, request = found
        fields: dict[str, Any] = {
            "address": self.address,
            "message": request_text(request, max_pages=self.max_pages),
            "job_id": request_job_id(ti_id, "n"),
        }
        if callback_urls_configured():
            fields["answer"] = APPROVAL
        else:
            self.log.warning(
                "EcallHITLNotifier: [ecall] callback_base_url or callback_signing_keys is not "
                "set: SMS replies cannot reach Airflow; answer in the UI"
            )
        try:
            result = EcallHook(ecall_conn_id=self.ecall_conn_id).send_sms(
                **fields, skip_existing=True, truncate=True
            )
        except Exception as exc:  # the request stays answerable in the UI
            self.log.error(
                "EcallHITLNotifier: the request SMS was not sent (%s: %s); answer in the UI",
                type(exc).__name__,
                exc,
            )
            self._plan_reminders(context, request)  # a reminder may reach them yet
            return
        recipients = self.address if isinstance(self.address, list) else [str(self.address)]
        self.log.info(
            "EcallHITLNotifier: request %s (ref %s) sent to %s",
            result.job_id,
            request.code,
            mask_addresses(recipients),
        )
        self._plan_reminders(context, request)

    def _plan_reminders(self, context: Context, request: ApprovalRequest) -> None:
        """Push the sealed reminder plan for the api-server, when reminders or an escalation
        are asked for; a failure is logged (the request stands without them)."""
        from airflow_provider_ecall.approvals.plan import PLAN_KEY
        from airflow_provider_ecall.notifications._reminders import sealed_plan

        if self.remind_every is None and self.escalate_after is None:
            return
        try:
            sealed = sealed_plan(self, context.get("task"), request)
            context["ti"].xcom_push(key=PLAN_KEY, value=sealed)
        except Exception as exc:
            self.log.error(
                "EcallHITLNotifier: no reminders for this request (%s: %s)",
                type(exc).__name__,
                exc,
            )
            return
        self.log.info("EcallHITLNotifier: reminders planned for request ref %s", request.code)
