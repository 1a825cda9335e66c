"""The one module that imports Airflow: base classes, version-dependent names, version limits.

Everything else in the package imports Airflow names from here (ruff TID251 enforces it),
so a change of location between Airflow versions is absorbed in this file only. Where each
name lives was checked by importing it in a release-day install of 2.11.2, 3.0.6, 3.1.8,
3.2.2 and 3.3.2 (``make test-compat`` keeps checking it):

=======================  =====================================  ===========================
name                     2.11                                   3.x
=======================  =====================================  ===========================
BaseOperator, DAG        ``airflow.models``                     ``airflow.sdk``
BaseNotifier             ``airflow.notifications.basenotifier`` ``airflow.sdk``
BaseSensorOperator       ``airflow.sensors.base``               ``airflow.sdk``
BaseHook                 ``airflow.hooks.base``                 3.0 as 2.11; 3.1+ ``airflow.sdk``
AirflowFailException,    ``airflow.exceptions``                 3.2+ ``airflow.sdk.exceptions``
AirflowSkipException,
AirflowSensorTimeout
mask_secret              ``airflow.utils.log.secrets_masker``   ``airflow.sdk.log``
=======================  =====================================  ===========================

Names only some modules need (triggers, sensors, plugins, assets, ``Stats``) are resolved on
first use (PEP 562), so a DAG parse does not pay for them. A name an Airflow version lacks
raises :class:`AirflowVersionError` naming the minimum version; so does :func:`require_airflow`,
which code of a version-bound feature calls where a DAG file creates it (at parse).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, Final

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
    "record_asset_event",
    "require_airflow",
    "resume_deferred",
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


def record_asset_event(asset_name: str, extra: dict[str, object]) -> bool:
    """Write one asset event from the api-server, which has the metadata database (the
    callback receiver, Airflow 3.0+). DAGs scheduled on the asset follow as for any event.

    :param asset_name: the asset's name; it must be declared by some DAG.
    :param extra: the event's ``extra``.
    :return: False when no such asset exists (nothing was written).
    """
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        model = session.scalar(select(AssetModel).where(AssetModel.name == asset_name).limit(1))
        if model is None:
            return False
        event = asset_manager.register_asset_change(asset=model, extra=extra, session=session)
        return event is not None


def resume_deferred(
    classpath: str, event_for: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> int:
    """Fire an event, from the api-server, for waiting triggers of one class (Airflow 3.0+).

    Every trigger row of ``classpath`` that a deferred task instance waits on is shown (its
    decrypted kwargs) to ``event_for``; where that returns a payload, Airflow's own
    ``Trigger.submit_event`` resumes the task with it, as the triggerer would have (the
    api-server does the same for human-in-the-loop answers). The triggerer then drops the
    trigger, whose task no longer waits. A task already resumed is left alone.

    :param classpath: the trigger class path, as its ``serialize()`` gives it.
    :param event_for: the payload for a trigger's kwargs, or None to leave it waiting.
    :return: how many triggers were fired.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.triggers.base import TriggerEvent as Event
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    fired = 0
    with create_session() as session:
        waiting = session.scalars(
            select(Trigger)
            .join(TaskInstance, TaskInstance.trigger_id == Trigger.id)
            .where(Trigger.classpath == classpath)
            .where(TaskInstance.state == TaskInstanceState.DEFERRED)
        ).unique()
        for trigger in list(waiting):
            payload = event_for(dict(trigger.kwargs))
            if payload is not None:
                event = Event(payload)  # type: ignore[no-untyped-call]
                Trigger.submit_event(trigger.id, event, session=session)
                fired += 1
    return fired


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
