"""Operators that send one eCall SMS, fax or voice message per task run.

Each takes the vendor parameters of its kind as keyword arguments (snake_case names of the
eCall "Send methods" page), renders them, and sends them in one hook call. ``message`` may
name a template file (``.txt`` or ``.j2``). The return value (pushed to XCom) is a small
JSON-safe dict: job id(s), counts and the result — never recipients or credentials.

A task sends with a deterministic JobID (from DAG, task, run and map index) unless
``job_id`` is given; a retry first asks eCall whether that job arrived and then sends only
what is missing, so a lost answer never costs a second message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.operators._base import EcallSendOperator
from airflow_provider_ecall.utils.fields import FAX, SMS, VOICE

if TYPE_CHECKING:
    from airflow_provider_ecall.client.messages import AddressInput, DateInput

__all__ = ["EcallFaxOperator", "EcallSendOperator", "EcallSmsOperator", "EcallVoiceOperator"]


class EcallSmsOperator(EcallSendOperator):
    """Send an SMS through eCall (vendor ``Api/Sms``).

    :param address: international numbers (``+41…``/``0041…``) or address-book names,
        ``;``-separated or a list. (templated)
    :param message: the text, or a ``.txt``/``.j2`` template file; up to 1530 GSM or 1570
        UCS-2 characters (10 pages) unless ``truncate`` is set. (templated)
    :param job_id: the JobID (≤ 50 characters); default: derived from DAG, task, run, map
        index and series of tries, so a retry can tell whether the first try's message
        arrived. An explicit one must be unique per task instance (in mapped tasks, include
        ``{{ ti.map_index }}``), or a retry skips what another instance sent. (templated)
    :param send_date: when to send (datetime or ISO 8601); a naive value is read in the
        DAG's timezone and sent with its offset. (templated)
    :param notification_address: numbers, e-mails or URLs told of the delivery. (templated)
    :param notification_level: 0 status when available, 1 last tracking point, 2 also
        delayed sends, 3 failures only.
    :param callback: the sender id, up to 16 digits or 11 characters; default: the
        connection's ``default_callback``. (templated)
    :param answer: where replies are forwarded; eCall then ignores ``callback``. (templated)
    :param msg_type: ``"Normal"`` or ``"Flash"``. (templated)
    :param no_log: keep the message out of eCall's log.
    :param ecall_conn_id: the ``ecall`` connection (default ``ecall_default``). (templated)
    :param truncate: shorten a text over the limit, ending it with an ellipsis, instead of
        failing the task.
    """

    spec = SMS
    send_with = EcallHook.send_sms
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
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        notification_address: AddressInput | None = None,
        notification_level: int | str | None = None,
        callback: str | None = None,
        answer: str | None = None,
        msg_type: str | None = None,
        no_log: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(**cast("dict[str, Any]", kwargs))
        self.address = address
        self.message = message
        self.job_id = job_id
        self.send_date = send_date
        self.notification_address = notification_address
        self.notification_level = notification_level
        self.callback = callback
        self.answer = answer
        self.msg_type = msg_type
        self.no_log = no_log


class EcallFaxOperator(EcallSendOperator):
    """Send a fax through eCall (vendor ``Api/Fax``).

    :param address: international fax numbers or address-book names, ``;``-separated or a
        list. (templated)
    :param message: the fax text, or a ``.txt``/``.j2`` template file. (templated)
    :param job_id: the JobID (≤ 50 characters); default: derived from DAG, task, run and map
        index. (templated)
    :param send_date: when to send; a naive value is read in the DAG's timezone. (templated)
    :param calling_number: the sender number, international, up to 16 digits. (templated)
    :param subject: the title on the cover sheet. (templated)
    :param header_id: the sender header on every page, up to 20 characters. (templated)
    :param header_info: more header text beside it, up to 50 characters. (templated)
    :param number_of_retries: attempts eCall makes, 0–9 (vendor default 0).
    :param retry_interval_in_minutes: minutes between eCall's attempts, 1–99.
    :param ecall_conn_id: the ``ecall`` connection (default ``ecall_default``). (templated)
    :param truncate: shorten a text over 50,000 characters instead of failing.
    """

    spec = FAX
    send_with = EcallHook.send_fax
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
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        calling_number: str | None = None,
        subject: str | None = None,
        header_id: str | None = None,
        header_info: str | None = None,
        number_of_retries: int | str | None = None,
        retry_interval_in_minutes: int | str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**cast("dict[str, Any]", kwargs))
        self.address = address
        self.message = message
        self.job_id = job_id
        self.send_date = send_date
        self.calling_number = calling_number
        self.subject = subject
        self.header_id = header_id
        self.header_info = header_info
        self.number_of_retries = number_of_retries
        self.retry_interval_in_minutes = retry_interval_in_minutes


class EcallVoiceOperator(EcallSendOperator):
    """Call and speak a text through eCall (vendor ``Api/Voice``), one call per number.

    :param address: international phone numbers, ``;``-separated or a list. (templated)
    :param message: the text to speak, or a ``.txt``/``.j2`` template file. (templated)
    :param job_id: the JobID (≤ 50 characters); default: derived from DAG, task, run and map
        index; several numbers get ``-1``, ``-2``, … suffixes. (templated)
    :param send_date: when to call; a naive value is read in the DAG's timezone. (templated)
    :param language: ``"DE"``, ``"FR"``, ``"IT"`` or ``"EN"``; None lets eCall detect it.
        (templated)
    :param from_text: the sender name read after the message. (templated)
    :param ecall_conn_id: the ``ecall`` connection (default ``ecall_default``). (templated)
    :param truncate: shorten a text over 5,000 characters instead of failing.
    """

    spec = VOICE
    send_with = EcallHook.send_voice
    template_fields: Sequence[str] = (
        "address",
        "message",
        "job_id",
        "send_date",
        "language",
        "from_text",
        "ecall_conn_id",
    )

    def __init__(
        self,
        *,
        address: AddressInput,
        message: str,
        job_id: str | None = None,
        send_date: DateInput | None = None,
        language: str | None = None,
        from_text: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**cast("dict[str, Any]", kwargs))
        self.address = address
        self.message = message
        self.job_id = job_id
        self.send_date = send_date
        self.language = language
        self.from_text = from_text
