"""A local simulator of the eCall HTTPS interface: library, CLI and pytest fixtures.

``from airflow_provider_ecall.sandbox import EcallSandbox`` — the names are loaded on first
use, so importing this package (as the pytest plugin does in every run) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_ecall.sandbox.server import EcallSandbox
    from airflow_provider_ecall.sandbox.state import SandboxMessage, SandboxRequest

__all__ = ["EcallSandbox", "SandboxMessage", "SandboxRequest"]

_LOCATIONS = {
    "EcallSandbox": "airflow_provider_ecall.sandbox.server",
    "SandboxMessage": "airflow_provider_ecall.sandbox.state",
    "SandboxRequest": "airflow_provider_ecall.sandbox.state",
}


def __getattr__(name: str) -> object:
    """Import the public names lazily (PEP 562)."""
    module_name = _LOCATIONS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
