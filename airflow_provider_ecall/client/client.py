"""``EcallClient``: send SMS, fax and voice messages, query their status, read inbound SMS."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, TypedDict

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.defaults import (
    DEFAULT_BASE_URL,
    DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
    MAX_BODY_BYTES,
    Timeout,
)
from airflow_provider_ecall.client.errors import (
    AUTH_CODES,
    CREDIT_CODES,
    TRANSIENT_CODES,
    UNKNOWN_JOB_CODES,
    EcallAuthError,
    EcallCreditError,
    EcallError,
    EcallRequestError,
    EcallResponseError,
    EcallServerError,
    EcallValidationError,
    describe,
    http_phrase,
)
from airflow_provider_ecall.client.failover import FailoverTransport, check_fallback_url
from airflow_provider_ecall.client.messages import Message, SmsMessage, batch_job_id
from airflow_provider_ecall.client.privacy import Form, Secret, mask_addresses
from airflow_provider_ecall.client.responses import (
    JOB_SCHEDULED,
    InboundSms,
    ResultBody,
    StatusRecord,
    UnreadableBody,
    parse_incoming,
    parse_result,
    parse_state,
    scheduled_record,
)
from airflow_provider_ecall.client.results import BatchResult, SendResult
from airflow_provider_ecall.client.transport import Answer, Transport

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)


class StatusQuery(TypedDict, total=False):
    """The arguments of :meth:`EcallClient.get_status`, for layers that pass them on."""

    job_id: str | None
    start_date: datetime | str | None
    end_date: datetime | str | None


MAX_WINDOW_SPLITS: Final = 16
TOO_MANY_STATUSES: Final = 11701
#: ``Api/Cache/GetNextMessage`` answers 11204 (elsewhere "message too long") when empty.
CACHE_EMPTY: Final = 11204


def _error_for(path: str, answer: Answer, result: ResultBody | None) -> EcallError:
    """The typed error for an answer that is not "HTTP 200 and ResultCode 0"."""
    code = None if result is None else result.code
    text = None if result is None else result.text
    what = describe(code, text)
    kind: type[EcallError]
    if answer.status == 401 or code in AUTH_CODES:
        kind, summary = EcallAuthError, "credentials refused"
    elif answer.status == 403 or code in CREDIT_CODES:
        kind, summary = EcallCreditError, "not enough credit"
    elif answer.status >= 500 or answer.status in {408, 429} or code in TRANSIENT_CODES:
        kind, summary = EcallServerError, "eCall failed"
    elif answer.status == 200 and result is None:
        kind, summary = EcallResponseError, "unreadable answer"
    elif 300 <= answer.status < 400:
        kind, summary = EcallRequestError, "redirected elsewhere; check the base URL"
    elif 400 <= answer.status < 500 or answer.status == 200:
        kind, summary = EcallRequestError, "request refused"
    else:
        kind, summary = EcallResponseError, "unexpected answer"
    return kind(
        f"{path}: {summary} ({http_phrase(answer.status)}; {what})",
        http_status=answer.status,
        result_code=code,
        result_text=text,
        body=answer.body,
    )


def _unreadable(answer: Answer, exc: UnreadableBody) -> EcallResponseError:
    """The error for an answer whose body is not the XML expected."""
    return EcallResponseError(str(exc), http_status=answer.status, body=answer.body)


def _read_result(answer: Answer) -> ResultBody | None:
    """The ``<Result>`` of an answer; None for a non-XML body, an error for a 200."""
    try:
        return parse_result(answer.body)
    except UnreadableBody as exc:
        if answer.status == 200:
            raise _unreadable(answer, exc) from None
        return None


def _accepted(path: str, answer: Answer) -> ResultBody:
    """The result of an answer that says "accepted" (HTTP 200, code 0).

    :raises EcallError: any other answer, as its type (:func:`_error_for`).
    """
    result = _read_result(answer)
    if answer.status != 200 or result is None or result.code != 0:
        raise _error_for(path, answer, result)
    return result


def _request_summary(part: Message) -> str:
    """One request for a log line: masked recipients, size (pages for SMS), JobID."""
    size = f"{len(part.message)} characters"
    if isinstance(part, SmsMessage):
        length = part.measure
        size = f"{length.units} {length.encoding} characters, {length.pages} page(s)"
    recipients = mask_addresses(part.recipients)
    return f"job {part.job_id} to {recipients} ({len(part.recipients)} recipient(s)), {size}"


class EcallClient:
    """A client of the eCall HTTPS interface (``https://url.ecall.ch/Api/…``).

    Every request is a POST form in UTF-8 over one keep-alive session; credentials travel in
    the body only. Success is HTTP 200 with result code 0; anything else raises a subclass of
    :class:`~airflow_provider_ecall.client.errors.EcallError`.

    :param base_url: the service root; ``http://`` only for loopback (the sandbox).
    :param username: the account or interface user (vendor ``UserName``).
    :param password: its password (vendor ``Password``); never logged or shown.
    :param session: a ``requests.Session`` to send through (tests, proxies, adapters).
    :param timeout: seconds, or ``(connect, read)`` seconds.
    :param batch_size: recipients per request; longer lists become several requests.
    :param connect_retries: extra attempts when no connection could be made at all.
    :param max_body_bytes: the cap on answer bodies.
    :param verify: TLS verification (True or a CA bundle path; False only explicitly).
    :param pool_size: keep-alive connections for concurrent senders.
    :param fallback_url: a second service root, used only when no connection to the first
        could be made (see :mod:`~airflow_provider_ecall.client.failover`).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        username: str = "",
        password: str = "",
        *,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        connect_retries: int = 2,
        max_body_bytes: int = MAX_BODY_BYTES,
        verify: bool | str = True,
        pool_size: int = 32,
        fallback_url: str | None = None,
    ) -> None:
        check.text("username", username, multiline=False)
        # The password is checked without quoting it: errors name the rule only.
        if not isinstance(password, str) or not password or check.has_control(password):
            raise EcallValidationError(
                "password", "must be a non-empty string without control characters"
            )
        self.username = username
        self._password = Secret(password)
        self.batch_size = check.integer("batch_size", batch_size, low=1, high=100_000)

        def transport(url: str) -> Transport:
            return Transport(
                url,
                session=session,
                timeout=timeout,
                connect_retries=connect_retries,
                max_body_bytes=max_body_bytes,
                verify=verify,
                pool_size=pool_size,
            )

        primary = transport(base_url)
        self._transport: Transport | FailoverTransport = primary
        if fallback_url is not None:
            fallback = transport(check_fallback_url(fallback_url))
            self._transport = FailoverTransport(primary, fallback)

    @property
    def base_url(self) -> str:
        """The service root requests go to."""
        return self._transport.base_url

    def __repr__(self) -> str:
        return f"EcallClient(base_url={self.base_url!r}, username={self.username!r})"

    def __enter__(self) -> EcallClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool (when the client created the session)."""
        self._transport.close()

    def _call(self, path: str, params: Mapping[str, str]) -> Answer:
        form = Form({"UserName": self.username, "Password": self._password, **params})
        return self._transport.post(path, form)

    # -- sending ---------------------------------------------------------------------------

    def plan(self, message: Message) -> list[Message]:
        """Split a message into the requests :meth:`send` makes, each with its JobID.

        :raises EcallValidationError: when a JobID is too long to carry a batch suffix.
        """
        size = min(self.batch_size, message.max_batch or self.batch_size)
        recipients = message.recipients
        chunks = [recipients[i : i + size] for i in range(0, len(recipients), size)]
        base = message.job_id or uuid.uuid4().hex
        if len(chunks) == 1:
            return [message.for_batch(chunks[0], base)]
        suffix_length = len(str(len(chunks))) + 1
        if len(base) + suffix_length > check.MAX_JOB_ID_LENGTH:
            raise EcallValidationError(
                "job_id",
                f"must be at most {check.MAX_JOB_ID_LENGTH - suffix_length} characters when "
                f"the recipients go out in {len(chunks)} requests (a '-N' suffix is added)",
            )
        return [
            message.for_batch(chunk, batch_job_id(base, n)) for n, chunk in enumerate(chunks, 1)
        ]

    def send(self, message: Message, *, skip_existing: bool = False) -> SendResult:
        """Send a message, in as many requests as its recipients need.

        :param message: an :class:`SmsMessage`, :class:`FaxMessage` or :class:`VoiceMessage`.
        :param skip_existing: first ask ``Api/State`` for each request's JobID and do not send
            a request eCall already has (safe re-runs after a lost answer).
        :return: one :class:`BatchResult` per request.
        :raises EcallError: the first failing request's error; ``error.completed`` lists the
            batches accepted before it.
        """
        done: list[BatchResult] = []
        for part in self.plan(message):
            try:
                done.append(self._send_one(part, skip_existing=skip_existing))
            except EcallError as exc:
                if not done:
                    raise
                # The same error, made again with the batches eCall accepted before it.
                raise exc.after(done).with_traceback(exc.__traceback__) from exc.__cause__
        return SendResult(message.kind, message.endpoint, tuple(done))

    def _send_one(self, part: Message, *, skip_existing: bool) -> BatchResult:
        job_id = part.job_id or ""
        count = len(part.recipients)
        if skip_existing:
            existing = self.get_status(job_id=job_id)
            if existing:
                log.info("eCall %s job %s exists already: not sending again", part.endpoint, job_id)
                return BatchResult(job_id, count, None, 0, "already sent", existing)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("eCall %s: sending %s", part.endpoint, _request_summary(part))
        answer = self._call(part.endpoint, part.to_params())
        result = _accepted(part.endpoint, answer)
        if log.isEnabledFor(logging.INFO):
            log.info("eCall %s accepted %s: %s", part.endpoint, _request_summary(part), result.text)
        return BatchResult(job_id, count, answer.status, 0, result.text or "OK")

    # -- status ----------------------------------------------------------------------------

    def get_status(
        self,
        *,
        job_id: str | None = None,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        split: bool = True,
    ) -> tuple[StatusRecord, ...]:
        """Query ``Api/State`` by JobID, or by a time window of original send times.

        :param job_id: the job to look up; an unknown job gives an empty tuple.
        :param start_date: the window's start (naive = UTC), with ``end_date``.
        :param end_date: the window's end.
        :param split: a window eCall finds too large (11701) is split in halves and queried
            again; False raises the 11701 ``EcallRequestError`` instead.
        :return: one record per recipient and job.
        """
        if job_id is not None:
            if start_date is not None or end_date is not None:
                raise EcallValidationError("job_id", "give a job_id or a window, not both")
            return self._state({"JobID": check.job_id(job_id)})
        if start_date is None or end_date is None:
            raise EcallValidationError("start_date", "give a job_id, or start_date and end_date")
        start = check.send_date(start_date, field="start_date")
        end = check.send_date(end_date, field="end_date")
        if isinstance(end_date, datetime) and end_date.microsecond:
            end += timedelta(seconds=1)  # whole seconds, as eCall's dates: the end rounds up
        if end <= start:
            raise EcallValidationError("end_date", "must be after start_date")
        # Halves share their boundary: a status stamped exactly there comes back twice.
        unique = {
            (r.job_id, r.address, r.status_code, r.raw_timestamp): r
            for r in self._window(start, end, MAX_WINDOW_SPLITS if split else 0)
        }
        return tuple(unique.values())

    def _window(self, start: datetime, end: datetime, splits: int) -> tuple[StatusRecord, ...]:
        span = int((end - start).total_seconds())
        try:
            return self._state({"StartDate": start.isoformat(), "EndDate": end.isoformat()})
        except EcallRequestError as exc:
            # eCall's dates are whole seconds: a one-second window cannot be split
            if exc.result_code != TOO_MANY_STATUSES or splits == 0 or span < 2:
                raise
        middle = start + timedelta(seconds=span // 2)
        log.info("eCall Api/State: window too large, splitting at %s", middle.isoformat())
        return self._window(start, middle, splits - 1) + self._window(middle, end, splits - 1)

    def _state(self, params: Mapping[str, str]) -> tuple[StatusRecord, ...]:
        answer = self._call("Api/State", params)
        if answer.status == 200:
            try:
                records, result = parse_state(answer.body)
            except UnreadableBody as exc:
                raise _unreadable(answer, exc) from None
            if result is None:
                return records
        else:
            result = _read_result(answer)
        job_id = params.get("JobID")
        if result is not None and job_id is not None:
            if result.code in UNKNOWN_JOB_CODES:
                return ()
            if result.code == JOB_SCHEDULED:  # "not an error": the job exists, not sent yet
                return (scheduled_record(job_id, result),)
        if answer.status == 200 and result is not None and result.code == 0:
            return ()
        raise _error_for("Api/State", answer, result)

    # -- inbound SMS -----------------------------------------------------------------------

    def get_next_inbound(self, *, mobile_number: str | None = None) -> InboundSms | None:
        """The oldest cached inbound SMS, not removed; None when the cache is empty.

        :param mobile_number: only messages to this leased number.
        """
        params = {}
        if mobile_number is not None:
            params["MobileNumber"] = check.international_number("mobile_number", mobile_number)
        answer = self._call("Api/Cache/GetNextMessage", params)
        if answer.status != 200:
            raise _error_for("Api/Cache/GetNextMessage", answer, _read_result(answer))
        try:
            result, sms = parse_incoming(answer.body)
        except UnreadableBody as exc:
            raise _unreadable(answer, exc) from None
        if sms is None and result.code not in {0, CACHE_EMPTY}:
            raise _error_for("Api/Cache/GetNextMessage", answer, result)
        return sms

    def delete_inbound(self, message_id: str) -> None:
        """Remove a processed inbound SMS from the cache.

        :param message_id: the ``MessageID`` of :meth:`get_next_inbound`'s message.
        """
        checked = check.text("message_id", message_id, max_length=200, multiline=False)
        _accepted(
            "Api/Cache/DeleteMessage", self._call("Api/Cache/DeleteMessage", {"MessageID": checked})
        )
