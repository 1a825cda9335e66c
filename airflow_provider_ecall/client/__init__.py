"""The eCall HTTPS client: plain Python, no Airflow import.

>>> from airflow_provider_ecall.client import EcallClient, SmsMessage
"""

from __future__ import annotations

from airflow_provider_ecall.client.client import EcallClient
from airflow_provider_ecall.client.errors import (
    EcallAuthError,
    EcallConnectionError,
    EcallCreditError,
    EcallError,
    EcallRequestError,
    EcallResponseError,
    EcallServerError,
    EcallTlsError,
    EcallValidationError,
)
from airflow_provider_ecall.client.messages import FaxMessage, Message, SmsMessage, VoiceMessage
from airflow_provider_ecall.client.responses import InboundSms, StatusRecord
from airflow_provider_ecall.client.results import BatchResult, SendResult

__all__ = [
    "BatchResult",
    "EcallAuthError",
    "EcallClient",
    "EcallConnectionError",
    "EcallCreditError",
    "EcallError",
    "EcallRequestError",
    "EcallResponseError",
    "EcallServerError",
    "EcallTlsError",
    "EcallValidationError",
    "FaxMessage",
    "InboundSms",
    "Message",
    "SendResult",
    "SmsMessage",
    "StatusRecord",
    "VoiceMessage",
]
