"""The one module that imports Airflow: base classes and version-dependent names.

Everything else in the package imports Airflow names from here (ruff TID251 enforces it),
so a change of location between Airflow versions is absorbed in this file only.
Checked on Airflow 3.3.2 (task SDK 1.3.2).

Names only delivery tracking needs (sensor and trigger bases) are loaded on first use
(PEP 562): DAG files import this module on every parse, and ``airflow.triggers.base`` alone
costs ~25 ms.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from airflow.configuration import conf
from airflow.sdk import DAG, BaseHook, BaseNotifier, BaseOperator, Context
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)
from airflow.sdk.log import mask_secret

if TYPE_CHECKING:
    from airflow.sdk import BaseSensorOperator as BaseSensorOperator
    from airflow.sdk import PokeReturnValue as PokeReturnValue
    from airflow.sdk.observability.stats import Stats
    from airflow.triggers.base import BaseTrigger as BaseTrigger
    from airflow.triggers.base import TriggerEvent as TriggerEvent

#: Names loaded on first use, and the module each lives in (the same on 2.11 and 3.x for
#: the triggers; the sensor names are in ``airflow.sdk`` from 3.0).
_LAZY = {
    "BaseSensorOperator": "airflow.sdk",
    "PokeReturnValue": "airflow.sdk",
    "BaseTrigger": "airflow.triggers.base",
    "TriggerEvent": "airflow.triggers.base",
}

__all__ = [
    "DAG",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "PokeReturnValue",
    "TriggerEvent",
    "conf",
    "default_deferrable",
    "mask_secret",
    "stats",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` (False when unset)."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def stats() -> type[Stats]:
    """Airflow's metrics facade ``Stats``, imported on first use (a DAG parse needs none).

    ``airflow.sdk.observability.stats`` where it exists (3.2+; ``airflow.stats`` is a
    deprecated shim there), ``airflow.stats`` on 2.11-3.1.
    """
    try:
        from airflow.sdk.observability.stats import Stats as found
    except ImportError:
        from airflow.stats import Stats as found
    return found
