"""Alert texts for notifiers: the default message per kind, and making any text sendable.

Airflow 3 contexts differ by where the callback runs: a task callback has ``ti``,
``exception`` (on failure) and ``run_id``; a DAG-level callback has ``dag``, ``run_id`` and
``reason``, and ``ti`` only when the run had a relevant task. Only those keys are read here,
each with a fallback, and every value is turned into ``str``. No Airflow import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from airflow_provider_ecall.client.lengths import truncate
from airflow_provider_ecall.client.validation import clean_text
from airflow_provider_ecall.notifications._dagrun import describe_failed, failed_task_ids

_SPACES: Final = re.compile(r"\s+")


@dataclass(frozen=True)
class AlertFacts:
    """What a callback context says, as strings (empty when the context lacks it).

    :param dag_id: the DAG.
    :param task_id: the task, or "" for a DAG-level callback without a task.
    :param run_id: the DAG run.
    :param state: the task state, or the DAG callback's reason ("" when unknown).
    :param try_number: the try, "" when unknown.
    :param error: ``ExceptionType: text`` of the failure, "" when there was none.
    :param log_url: the task log URL, "" when unknown.
    :param dag_level: whether the context came from a DAG-level callback.
    :param failed_tasks: a DAG-level alert's failed task ids (None: not known).
    """

    dag_id: str
    task_id: str
    run_id: str
    state: str
    try_number: str
    error: str
    log_url: str
    dag_level: bool
    failed_tasks: tuple[str, ...] | None = None


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))  # enum states render as their value


def _attr(obj: object, name: str) -> str:
    try:
        return _text(getattr(obj, name, None))
    except Exception:  # a property of a detached task instance may raise
        return ""


def _error(exception: object) -> str:
    if exception is None or exception == "":
        return ""
    if isinstance(exception, BaseException):
        detail = _SPACES.sub(" ", str(exception)).strip()
        return f"{type(exception).__name__}: {detail}" if detail else type(exception).__name__
    return _SPACES.sub(" ", str(exception)).strip()


def facts(context: Mapping[str, object]) -> AlertFacts:
    """Read the facts of an alert from an Airflow context of any callback kind.

    Deadline alerts (run by the triggerer) get only ``dag_run`` (a JSON dict) and
    ``deadline``; their alert is DAG-level with the state "missed its deadline".
    """
    ti = context.get("ti")
    dag = context.get("dag")
    run = context.get("dag_run")
    run_facts: Mapping[str, object] = run if isinstance(run, Mapping) else {}
    deadline = "deadline" in context
    dag_level = "reason" in context or deadline
    state = _text(context.get("reason")) if dag_level else _attr(ti, "state")
    return AlertFacts(
        dag_id=_attr(ti, "dag_id") or _attr(dag, "dag_id") or _text(run_facts.get("dag_id")),
        task_id=_attr(ti, "task_id"),
        run_id=_text(context.get("run_id"))
        or _attr(ti, "run_id")
        or _text(run_facts.get("run_id")),
        state=state or ("missed its deadline" if deadline else ""),
        try_number=_attr(ti, "try_number"),
        error=_error(context.get("exception")),
        log_url=_attr(ti, "log_url"),
        dag_level=dag_level,
        failed_tasks=failed_task_ids(context) if dag_level else None,
    )


def _subject(alert: AlertFacts) -> str:
    state = alert.state or ("failed" if alert.error else "finished")
    if alert.dag_level:
        last = f", last task {alert.task_id}" if alert.task_id else ""
        if alert.failed_tasks:
            last = f", {describe_failed(alert.failed_tasks)}"
        return f"DAG {alert.dag_id}: {state}{last}"
    attempt = f" (try {alert.try_number})" if alert.try_number else ""
    return f"task {alert.dag_id}.{alert.task_id} {state}{attempt}"


def sms_alert(alert: AlertFacts) -> str:
    """A short SMS: what, which run, a short error and the log link."""
    parts = [f"Airflow: {_subject(alert)}", f"run {alert.run_id}"]
    if alert.error:
        parts.append(truncate(alert.error, 120))
    if alert.log_url and not alert.dag_level:
        parts.append(alert.log_url)
    return "\n".join(parts)


def fax_alert(alert: AlertFacts) -> str:
    """A fax page: every fact on its own line, the error at length."""
    lines = [
        f"Airflow alert: {_subject(alert)}",
        "",
        f"DAG: {alert.dag_id}",
        f"Task: {alert.task_id or '-'}",
        f"Run: {alert.run_id}",
        f"State: {alert.state or '-'}",
        f"Try: {alert.try_number or '-'}",
    ]
    if alert.error:
        lines += ["", "Error:", truncate(alert.error, 2000)]
    if alert.log_url:
        lines += ["", f"Log: {alert.log_url}"]
    return "\n".join(lines)


def voice_alert(alert: AlertFacts) -> str:
    """A spoken text: no links or run ids, a short error."""
    said = f"Airflow alert. {_subject(alert).replace('.', ' ')}."
    if alert.error:
        said += f" {truncate(alert.error, 160)}."
    return said


DEFAULT_TEXT: Final[dict[str, Callable[[AlertFacts], str]]] = {
    "sms": sms_alert,
    "fax": fax_alert,
    "voice": voice_alert,
}


def default_message(kind: str, context: Mapping[str, object]) -> str:
    """The default alert text of a kind for a callback context.

    :param kind: ``"sms"``, ``"fax"`` or ``"voice"``.
    :param context: the Airflow context the callback got.
    """
    return DEFAULT_TEXT[kind](facts(context))


def sendable(kind: str, text: object, context: Mapping[str, object]) -> str:
    """Make a rendered alert text sendable whatever it holds.

    The value is turned into ``str``; a missing or blank text is replaced by the default
    message; control characters and unpaired surrogates become spaces (exception texts can
    carry ANSI colour codes). Length is left to the hook, which cuts every kind to what it
    carries.
    """
    value = "" if text is None else str(text)
    if not value.strip():
        value = default_message(kind, context)
    return clean_text(value)
