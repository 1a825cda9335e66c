"""An opt-in cluster policy: an eCall failure notifier for every task that has none.

Registered through Airflow's ``airflow.policy`` entry point (pluggy), which Airflow 2.11 and
3.0–3.3 load in every process that parses DAG files (DAG processor, workers), so nobody
edits a DAG or ``airflow_local_settings.py``. It does nothing until ``[ecall]
alert_policy_to`` names recipients:

- ``alert_policy_to``: numbers or address-book names (``;``-separated);
- ``alert_policy_kind``: ``sms`` (default), ``fax`` or ``voice``;
- ``alert_policy_include_tags`` / ``alert_policy_exclude_tags``: comma-separated DAG tags
  (include empty: every DAG);
- ``alert_policy_conn_id``: the connection (default ``ecall_default``).

A task whose author set ``on_failure_callback`` keeps it (``None`` and an empty list count
as none: Airflow 3 defaults to ``[]``). A malformed setting fails the DAG parse, naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

import pluggy

from airflow_provider_ecall.client.errors import EcallValidationError

if TYPE_CHECKING:
    from airflow_provider_ecall.utils.compat import DAG

hookimpl: Final = pluggy.HookimplMarker("airflow.policy")
_KINDS: Final = ("sms", "fax", "voice")


@dataclass(frozen=True)
class PolicySettings:
    """The ``[ecall] alert_policy_*`` settings, checked.

    :param to: the recipients.
    :param kind: ``sms``, ``fax`` or ``voice``.
    :param include_tags: only DAGs with one of these tags (empty: all).
    :param exclude_tags: never DAGs with one of these tags.
    :param conn_id: the eCall connection.
    """

    to: str
    kind: str
    include_tags: frozenset[str]
    exclude_tags: frozenset[str]
    conn_id: str

    def covers(self, tags: Collection[str]) -> bool:
        """Whether a DAG with ``tags`` gets the notifier."""
        tags = set(tags)
        if tags & self.exclude_tags:
            return False
        return not self.include_tags or bool(tags & self.include_tags)

    def notifier(self) -> Callable[..., object]:
        """A new failure notifier of the configured kind."""
        from airflow_provider_ecall.notifications.ecall import (
            EcallFaxNotifier,
            EcallSmsNotifier,
            EcallVoiceNotifier,
        )

        cls = {"sms": EcallSmsNotifier, "fax": EcallFaxNotifier, "voice": EcallVoiceNotifier}
        return cls[self.kind](address=self.to, ecall_conn_id=self.conn_id)  # type: ignore[no-any-return]


def _tags(value: str) -> frozenset[str]:
    return frozenset(t.strip() for t in value.split(",") if t.strip())


def read_policy_settings(get: Callable[[str], str]) -> PolicySettings | None:
    """Read the settings through ``get(option)``; None when the policy is off.

    :raises EcallValidationError: a setting breaks its rule (named ``[ecall] option``).
    """
    to = get("alert_policy_to").strip()
    if not to:
        return None
    kind = get("alert_policy_kind").strip() or "sms"
    if kind not in _KINDS:
        raise EcallValidationError("[ecall] alert_policy_kind", "must be sms, fax or voice")
    return PolicySettings(
        to=to,
        kind=kind,
        include_tags=_tags(get("alert_policy_include_tags")),
        exclude_tags=_tags(get("alert_policy_exclude_tags")),
        conn_id=get("alert_policy_conn_id").strip() or "ecall_default",
    )


@cache
def _settings() -> PolicySettings | None:
    from airflow_provider_ecall.utils.compat import conf

    return read_policy_settings(lambda option: str(conf.get("ecall", option, fallback="") or ""))


@hookimpl
def dag_policy(dag: DAG) -> None:
    """Give each task of a covered DAG that has no failure callback an eCall notifier."""
    settings = _settings()
    if settings is None or not settings.covers(dag.tags or ()):
        return
    for task in dag.tasks:
        if not task.on_failure_callback:
            task.on_failure_callback = [settings.notifier()]  # type: ignore[list-item]
