"""A local simulator of the eCall HTTPS interface: library, CLI and pytest fixtures.

``from airflow_provider_ecall.sandbox import EcallSandbox`` — the names are loaded on first
use, so importing this package (as the pytest plugin does in every run) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_ecall.utils.lazy import lazy_attributes

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox.delivery import DeliveryBehaviour
    from airflow_provider_ecall.sandbox.server import EcallSandbox
    from airflow_provider_ecall.sandbox.state import SandboxMessage, SandboxRequest

__all__ = ["DeliveryBehaviour", "EcallSandbox", "SandboxMessage", "SandboxRequest"]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    globals(),
    {
        "DeliveryBehaviour": "airflow_provider_ecall.sandbox.delivery",
        "EcallSandbox": "airflow_provider_ecall.sandbox.server",
        "SandboxMessage": "airflow_provider_ecall.sandbox.state",
        "SandboxRequest": "airflow_provider_ecall.sandbox.state",
    },
)
