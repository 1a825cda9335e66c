"""The one module that imports Airflow: base classes, version-dependent names, version limits.

Everything else in the package imports Airflow names from here (ruff TID251 enforces it),
so a change of location between Airflow versions is absorbed in this file only. Where each
name lives was checked by importing it in a release-day install of 2.11.2, 3.0.6, 3.1.8,
3.2.2 and 3.3.2 (``make test-compat`` keeps checking it):

=======================  ========================================  =================================
name                     2.11                                      3.x
=======================  ========================================  =================================
BaseOperator, DAG        ``airflow.models``                        ``airflow.sdk``
BaseNotifier             ``airflow.notifications.basenotifier``    ``airflow.sdk``
BaseSensorOperator       ``airflow.sensors.base``                  ``airflow.sdk``
BaseHook                 ``airflow.hooks.base``                    3.0 as 2.11; 3.1+ ``airflow.sdk``
AirflowFailException,    ``airflow.exceptions``                    3.2+ ``airflow.sdk.exceptions``
AirflowSkipException,
AirflowSensorTimeout
mask_secret              ``airflow.utils.log.secrets_masker``      ``airflow.sdk.log``
=======================  ========================================  =================================

Names only some modules need (triggers, sensors, plugins, assets, ``Stats``) are resolved on
first use (PEP 562), so a DAG parse does not pay for them. A name an Airflow version lacks
raises :class:`AirflowVersionError` naming the minimum version; so does :func:`require_airflow`,
which code of a version-bound feature calls where a DAG file creates it (at parse).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Final

from airflow import __version__ as AIRFLOW_VERSION_TEXT
from airflow.configuration import conf

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_VERSION_TEXT",
    "DAG",
    "AirflowFailException",
    "AirflowPlugin",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowVersionError",
    "BaseEventTrigger",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "PokeReturnValue",
    "TriggerEvent",
    "airflow_at_least",
    "conf",
    "default_deferrable",
    "mask_secret",
    "require_airflow",
    "stats",
]


def _release(text: str) -> tuple[int, int, int]:
    """``"3.1"`` -> ``(3, 1, 0)``; ``"3.2.0rc1"`` / ``"2.11.2.post1"`` -> their release part."""
    parts: list[int] = []
    for piece in text.split(".")[:3]:
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    if not parts:
        raise ValueError(f"not a version number: {text!r}")
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


#: The running Airflow's release as ``(major, minor, micro)``, e.g. ``(3, 1, 8)``.
AIRFLOW_VERSION: Final[tuple[int, int, int]] = _release(AIRFLOW_VERSION_TEXT)


class AirflowVersionError(RuntimeError):
    """A feature of this provider needs a newer Airflow than the one running.

    :param feature: what the user asked for, in words (e.g. "asset watchers").
    :param minimum: the first Airflow release that supports it (e.g. ``"3.1"``).
    """

    def __init__(self, feature: str, minimum: str) -> None:
        self.feature = feature
        self.minimum = minimum
        self.running = AIRFLOW_VERSION_TEXT
        super().__init__(
            f"airflow-provider-ecall: {feature} needs Airflow {minimum} or newer; "
            f"this is Airflow {AIRFLOW_VERSION_TEXT}"
        )


def airflow_at_least(minimum: str) -> bool:
    """Whether the running Airflow is ``minimum`` (e.g. ``"3.1"``) or newer."""
    return _release(minimum) <= AIRFLOW_VERSION


def require_airflow(feature: str, minimum: str) -> None:
    """Refuse a feature the running Airflow cannot support — call it where a DAG file
    creates the feature (a constructor), so the DAG fails at parse, not a task at run time.

    :param feature: the feature in words, as the user knows it.
    :param minimum: the first Airflow release that has it, e.g. ``"3.1"``.
    :raises AirflowVersionError: the running Airflow is older than ``minimum``.
    """
    if not airflow_at_least(minimum):
        raise AirflowVersionError(feature, minimum)


if TYPE_CHECKING:  # type-checked against the newest Airflow (make test's environment)
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser as BaseUser
    from airflow.api_fastapi.core_api.datamodels.hitl import (
        UpdateHITLDetailPayload as UpdateHITLDetailPayload,
    )
    from airflow.api_fastapi.core_api.routes.public.hitl import (
        update_hitl_detail as update_hitl_detail,
    )
    from airflow.assets.manager import asset_manager as asset_manager
    from airflow.models.asset import AssetModel as AssetModel
    from airflow.models.dagbag import DBDagBag as DBDagBag
    from airflow.models.hitl import HITLDetail as HITLDetail
    from airflow.models.taskinstance import TaskInstance as TaskInstance
    from airflow.models.trigger import Trigger as Trigger
    from airflow.models.xcom import XComModel as XComModel
    from airflow.plugins_manager import AirflowPlugin as AirflowPlugin
    from airflow.sdk import DAG, BaseHook, BaseNotifier, BaseOperator, Context
    from airflow.sdk import BaseSensorOperator as BaseSensorOperator
    from airflow.sdk import PokeReturnValue as PokeReturnValue
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
    from airflow.sdk.log import mask_secret
    from airflow.sdk.observability.stats import Stats
    from airflow.triggers.base import BaseEventTrigger as BaseEventTrigger
    from airflow.triggers.base import BaseTrigger as BaseTrigger
    from airflow.triggers.base import TriggerEvent as TriggerEvent
    from airflow.utils.session import create_session as create_session
    from airflow.utils.state import TaskInstanceState as TaskInstanceState
elif AIRFLOW_VERSION >= (3, 0, 0):
    from airflow.sdk import DAG, BaseNotifier, BaseOperator, Context
    from airflow.sdk.log import mask_secret

    if AIRFLOW_VERSION >= (3, 1, 0):
        from airflow.sdk import BaseHook
    else:
        from airflow.hooks.base import BaseHook
    if AIRFLOW_VERSION >= (3, 2, 0):
        from airflow.sdk.exceptions import (
            AirflowFailException,
            AirflowSensorTimeout,
            AirflowSkipException,
        )
    else:
        from airflow.exceptions import (
            AirflowFailException,
            AirflowSensorTimeout,
            AirflowSkipException,
        )
else:
    from airflow.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException
    from airflow.hooks.base import BaseHook
    from airflow.models.baseoperator import BaseOperator
    from airflow.models.dag import DAG
    from airflow.notifications.basenotifier import BaseNotifier
    from airflow.utils.context import Context
    from airflow.utils.log.secrets_masker import mask_secret


#: Names resolved on first use: name -> ((first release, module from that release on), ...),
#: oldest first; a name whose first entry is newer than 2.11 does not exist before it.
_ON_DEMAND: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "BaseSensorOperator": (("2.11", "airflow.sensors.base"), ("3.0", "airflow.sdk")),
    "PokeReturnValue": (("2.11", "airflow.sensors.base"), ("3.0", "airflow.sdk")),
    "BaseTrigger": (("2.11", "airflow.triggers.base"),),
    "TriggerEvent": (("2.11", "airflow.triggers.base"),),
    "AirflowPlugin": (("2.11", "airflow.plugins_manager"),),
    "Stats": (("2.11", "airflow.stats"), ("3.2", "airflow.sdk.observability.stats")),
    "BaseEventTrigger": (("3.0", "airflow.triggers.base"),),
    "Asset": (("3.0", "airflow.sdk"),),
    "AssetWatcher": (("3.0", "airflow.sdk"),),
    # The callback receiver's database work (api-server only).
    "AssetModel": (("3.0", "airflow.models.asset"),),
    "asset_manager": (("3.0", "airflow.assets.manager"),),
    "TaskInstance": (("2.11", "airflow.models.taskinstance"),),
    "TaskInstanceState": (("2.11", "airflow.utils.state"),),
    "Trigger": (("2.11", "airflow.models.trigger"),),
    "create_session": (("2.11", "airflow.utils.session"),),
    # Approvals by SMS (api-server only): Airflow's own way of recording a HITL answer.
    "HITLDetail": (("3.1", "airflow.models.hitl"),),
    "UpdateHITLDetailPayload": (("3.1", "airflow.api_fastapi.core_api.datamodels.hitl"),),
    "update_hitl_detail": (("3.1", "airflow.api_fastapi.core_api.routes.public.hitl"),),
    "DBDagBag": (("3.1", "airflow.models.dagbag"),),  # the route's dag_bag from 3.4
    "BaseUser": (("3.0", "airflow.api_fastapi.auth.managers.models.base_user"),),
    "XComModel": (("3.0", "airflow.models.xcom"),),  # reminder plans (api-server only)
}


def __getattr__(name: str) -> object:
    """Resolve an on-demand name (see ``_ON_DEMAND``) and cache it in this module.

    :raises AirflowVersionError: the running Airflow is older than the name.
    """
    places = _ON_DEMAND.get(name)
    if places is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_airflow(f"Airflow's {name}", places[0][0])
    module = [module for since, module in places if airflow_at_least(since)][-1]
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` (False when unset)."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def stats() -> type[Stats]:
    """Airflow's metrics facade ``Stats``, imported on first use (a DAG parse needs none):
    ``airflow.sdk.observability.stats`` from 3.2 (``airflow.stats`` is a deprecated shim
    there), ``airflow.stats`` on 2.11-3.1."""
    facade: type[Stats] = __getattr__("Stats")  # type: ignore[assignment]
    return facade


def failed_tasks_in_database(dag_id: str, run_id: str) -> tuple[str, ...]:
    """The failed task ids of a DAG run, read from the metadata database.

    Only for processes that may use the database (``airflow dags test`` / ``dag.test()``,
    whose DAG callbacks have no supervisor to ask); anywhere else it raises.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(TaskInstance.task_id)
            .filter(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.state == "failed",
            )
            .distinct()
            .all()
        )
    return tuple(sorted(str(row[0]) for row in rows))
