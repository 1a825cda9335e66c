"""Which failures the sweeper pages for, and whom (no Airflow import).

A rule matches DAG ids, task ids (shell patterns, ``fnmatch``) and DAG tags; the first
rule that matches a failure decides its recipients and kind. Rules are checked when the
watchdog starts: a malformed one stops it with an error naming the rule and the field.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from airflow_provider_ecall.client import validation as check
from airflow_provider_ecall.client.errors import EcallValidationError

KINDS: Final = ("sms", "voice")
_KEYS: Final = frozenset({"dags", "tasks", "tags", "to", "kind", "dag_runs"})


@dataclass(frozen=True)
class Route:
    """One routing rule.

    :param dags: DAG id patterns (``*`` for all).
    :param tasks: task id patterns; a DAG run failure matches when ``dag_runs`` is set.
    :param tags: the DAG must carry one of these tags (empty: any DAG).
    :param to: the sorted recipients.
    :param kind: ``"sms"`` or ``"voice"``.
    :param dag_runs: also page for failed DAG runs (not only failed tasks).
    """

    dags: tuple[str, ...]
    tasks: tuple[str, ...]
    tags: tuple[str, ...]
    to: tuple[str, ...]
    kind: str
    dag_runs: bool = False

    def matches(self, dag_id: str, task_id: str | None, tags: Collection[str]) -> bool:
        """Whether a failure of ``dag_id`` (``task_id`` None: the run) falls under this rule.

        :param tags: the DAG's tags.
        """
        if not any(fnmatch.fnmatchcase(dag_id, p) for p in self.dags):
            return False
        if self.tags and not set(self.tags) & set(tags):
            return False
        if task_id is None:
            return self.dag_runs
        return any(fnmatch.fnmatchcase(task_id, p) for p in self.tasks)


def _patterns(name: str, value: object, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise EcallValidationError(name, "must be a non-empty string or list of strings")
    return tuple(items)


def parse_route(index: int, rule: object) -> Route:
    """Check one rule (a JSON object) and build its :class:`Route`.

    :param index: its position, for the error (``routes[2].to``).
    :raises EcallValidationError: a field breaks its rule (named in the error).
    """
    where = f"routes[{index}]"
    if not isinstance(rule, Mapping):
        raise EcallValidationError(where, "must be a JSON object with 'dags' and 'to'")
    unknown = sorted(set(rule) - _KEYS)
    if unknown:
        raise EcallValidationError(
            f"{where}.{unknown[0]}", f"is not a rule field (known: {', '.join(sorted(_KEYS))})"
        )
    if "dags" not in rule or "to" not in rule:
        raise EcallValidationError(where, "needs 'dags' (patterns) and 'to' (recipients)")
    kind = check.choice(f"{where}.kind", rule.get("kind", "sms"), KINDS)
    to = check.split_list(f"{where}.to", rule["to"])
    to = tuple(sorted(check.recipient(f"{where}.to", a, names=True) for a in to))
    dag_runs = rule.get("dag_runs", False)
    if not isinstance(dag_runs, bool):
        raise EcallValidationError(f"{where}.dag_runs", "must be true or false")
    return Route(
        dags=_patterns(f"{where}.dags", rule["dags"], ("*",)),
        tasks=_patterns(f"{where}.tasks", rule.get("tasks"), ("*",)),
        tags=_patterns(f"{where}.tags", rule.get("tags"), ()) if rule.get("tags") else (),
        to=to,
        kind=kind,
        dag_runs=dag_runs,
    )


def parse_routes(rules: object) -> tuple[Route, ...]:
    """Check a list of rules (see :func:`parse_route`)."""
    if not isinstance(rules, list):
        raise EcallValidationError("routes", "must be a JSON list of rule objects")
    return tuple(parse_route(i, rule) for i, rule in enumerate(rules))


def route_for(
    routes: Sequence[Route], dag_id: str, task_id: str | None, tags: Collection[str]
) -> Route | None:
    """The first rule that matches a failure, or None (the sweeper leaves it alone)."""
    return next((r for r in routes if r.matches(dag_id, task_id, tags)), None)
