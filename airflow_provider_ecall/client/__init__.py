"""The eCall HTTPS client: plain Python, no Airflow import.

>>> from airflow_provider_ecall.client import EcallClient, SmsMessage

The names are loaded on first use (PEP 562): importing this package loads none of its
modules. DAG files import the hook, operators and notifiers, which need only
:mod:`~airflow_provider_ecall.client.errors` at import; the message classes are loaded when a
message is built, and the client with its HTTP stack (``requests``) when one is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_ecall.utils.lazy import lazy_attributes

if TYPE_CHECKING:
    from airflow_provider_ecall.client.client import EcallClient as EcallClient
    from airflow_provider_ecall.client.errors import (
        EcallAuthError as EcallAuthError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallConnectionError as EcallConnectionError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallCreditError as EcallCreditError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallError as EcallError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallRequestError as EcallRequestError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallResponseError as EcallResponseError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallServerError as EcallServerError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallTlsError as EcallTlsError,
    )
    from airflow_provider_ecall.client.errors import (
        EcallValidationError as EcallValidationError,
    )
    from airflow_provider_ecall.client.messages import (
        FaxMessage as FaxMessage,
    )
    from airflow_provider_ecall.client.messages import (
        Message as Message,
    )
    from airflow_provider_ecall.client.messages import (
        SmsMessage as SmsMessage,
    )
    from airflow_provider_ecall.client.messages import (
        VoiceMessage as VoiceMessage,
    )
    from airflow_provider_ecall.client.responses import InboundSms as InboundSms
    from airflow_provider_ecall.client.responses import StatusRecord as StatusRecord
    from airflow_provider_ecall.client.results import BatchResult as BatchResult
    from airflow_provider_ecall.client.results import SendResult as SendResult

_ERRORS = "airflow_provider_ecall.client.errors"
_MESSAGES = "airflow_provider_ecall.client.messages"
_LOCATIONS = {
    "EcallClient": "airflow_provider_ecall.client.client",
    **dict.fromkeys(
        [
            "EcallAuthError",
            "EcallConnectionError",
            "EcallCreditError",
            "EcallError",
            "EcallRequestError",
            "EcallResponseError",
            "EcallServerError",
            "EcallTlsError",
            "EcallValidationError",
        ],
        _ERRORS,
    ),
    **dict.fromkeys(["FaxMessage", "Message", "SmsMessage", "VoiceMessage"], _MESSAGES),
    "InboundSms": "airflow_provider_ecall.client.responses",
    "StatusRecord": "airflow_provider_ecall.client.responses",
    "BatchResult": "airflow_provider_ecall.client.results",
    "SendResult": "airflow_provider_ecall.client.results",
}
__all__ = sorted(_LOCATIONS)

__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LOCATIONS)
