"""The eCall error hierarchy: one type per way a request can fail.

Every error carries ``http_status``, ``result_code`` and ``result_text`` (``None`` where the
failure happened before an answer) and ``retryable``: whether sending again could succeed.
Messages never contain the password: nothing here is built from request parameters.
An error is complete when it is made and not changed afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar, Final

if TYPE_CHECKING:
    from typing_extensions import Self

    from airflow_provider_ecall.client.results import BatchResult

#: Result codes of the reference (``ecall-https-interface.md`` section 3).
RESULT_NAMES: Final[dict[int, str]] = {
    0: "OK",
    11000: "SyntaxError",
    11001: "PermissionDenied",
    11100: "AdrAdCInvalid",
    11101: "AdrNAdInvalid",
    11102: "AdrAdCMissing",
    11103: "AdrNAdMissing",
    11104: "AdrAdCTooMany",
    11105: "AdrAdCNotAllowed",
    11200: "MsgNoCharacters",
    11201: "MsgInvalidCharacters",
    11202: "MsgSendTimeInvalid",
    11203: "MsgSendTimeNotAllowed",
    11204: "MsgTooLong",
    11300: "AccNoUser",
    11301: "AccNoUnits",
    11303: "AccNoFreeUnits",
    11400: "CallSystemInvalid",
    11401: "CallSystemInvalidForUser",
    11402: "CallSystemNotSupported",
    11403: "CallSystemConfused",
    11500: "IDMissing",
    11501: "IDInvalid",
    11502: "IDDoesNotExist",
    11600: "StateAlreadyTransmitted",
    11700: "DataReadError",
    11701: "TooManyStatusObjects",
    11800: "CBMsgError",
    11910: "JobNotFound",
    11911: "JobIDRequired",
    11912: "JobScheduled",
}
AUTH_CODES: Final = frozenset({11001, 11300})
CREDIT_CODES: Final = frozenset({11301, 11303})
#: Codes that describe a passing condition on eCall's side.
TRANSIENT_CODES: Final = frozenset({11403, 11700})
#: Codes a status query answers for a job it does not know.
UNKNOWN_JOB_CODES: Final = frozenset({11501, 11502, 11910})


class EcallError(Exception):
    """Base class of every error this package raises.

    :param message: a human-readable explanation (never containing credentials).
    :param http_status: the HTTP status of the answer, if one arrived.
    :param result_code: eCall's ``ResultCode``, if the body carried one.
    :param result_text: eCall's ``ResultText``, if the body carried one.
    :param body: the (size-capped) body of the answer it came from, if any.
    :param completed: the batches of the same send that eCall had accepted before this
        failure (see :meth:`EcallClient.send`).
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        result_code: int | None = None,
        result_text: str | None = None,
        body: bytes | None = None,
        completed: Sequence[BatchResult] = (),
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.result_code = result_code
        self.result_text = result_text
        self.body = body
        self.completed: tuple[BatchResult, ...] = tuple(completed)

    def after(self, completed: Sequence[BatchResult]) -> Self:
        """The same error as a new one that also names the batches accepted before it.

        :param completed: the batches of the send that eCall had accepted.
        """
        return type(self)(
            str(self),
            http_status=self.http_status,
            result_code=self.result_code,
            result_text=self.result_text,
            body=self.body,
            completed=completed,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, http_status={self.http_status!r}, "
            f"result_code={self.result_code!r})"
        )


class EcallValidationError(EcallError, ValueError):
    """Input broke a rule that is checked locally; nothing was sent.

    :param field: the python name of the offending field (``address``, ``job_id``, …).
    :param rule: the rule it broke, in words.
    :param completed: the batches accepted before it (see :class:`EcallError`).
    """

    def __init__(self, field: str, rule: str, *, completed: Sequence[BatchResult] = ()) -> None:
        super().__init__(f"{field}: {rule}", completed=completed)
        self.field = field
        self.rule = rule

    def after(self, completed: Sequence[BatchResult]) -> Self:
        """The same rule broken, as a new error that names the batches accepted before it.

        :param completed: the batches of the send that eCall had accepted.
        """
        return type(self)(self.field, self.rule, completed=completed)

    def __reduce__(self) -> tuple[type[EcallValidationError], tuple[str, str]]:
        return type(self), (self.field, self.rule)


class EcallRequestError(EcallError):
    """eCall refused the request as bad input (HTTP 400); sending it again will not help."""


class EcallAuthError(EcallError):
    """Credentials missing, unknown or not permitted (HTTP 401, codes 11001/11300)."""


class EcallCreditError(EcallError):
    """Not enough credit on the account (HTTP 403, codes 11301/11303)."""


class EcallServerError(EcallError):
    """A passing failure: 5xx, a transient code, a timeout or a lost connection.

    The request may or may not have reached eCall; it was not resent automatically.
    """

    retryable: ClassVar[bool] = True


class EcallConnectionError(EcallServerError):
    """eCall could not be reached at all (refused, DNS, connect timeout); nothing was
    delivered, and the client had already retried the connection."""


class EcallTlsError(EcallError):
    """The TLS handshake or certificate verification failed; nothing was delivered."""


class EcallResponseError(EcallError):
    """The answer could not be understood (not XML, unsafe XML, too large, wrong shape).

    After a send this means the outcome is unknown, so it counts as retryable.
    """

    retryable: ClassVar[bool] = True


def describe(code: int | None, text: str | None) -> str:
    """Put a result in words, e.g. ``"AccNoUnits: not enough credit"``.

    The numbers stay on the error's attributes; only a code without a known name is quoted,
    since it has nothing else to go by.
    """
    if code is None:
        return text or "no result code"
    name = RESULT_NAMES.get(code, f"unknown result code {code}")
    return f"{name}: {text}" if text else name


def http_phrase(status: int) -> str:
    """The reason phrase of an HTTP status (``"Bad Gateway"``), or ``"an unusual status"``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "an unusual status"
