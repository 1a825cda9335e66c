"""The fields of each kind are said once — the message dataclass and the kind's spec
(``utils/fields.py``) — and every surface that takes them keeps to it: the operators' and
the notifiers' signatures (names, types, defaults), their literal ``template_fields``, and
the parameter tables of docs/parameters.md (names and the templated mark). Written out by
hand in each place because Airflow reads them there; this test keeps them from drifting."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecall.client.messages import FaxMessage, SmsMessage, VoiceMessage
from airflow_provider_ecall.notifications.ecall import (
    EcallFaxNotifier,
    EcallSmsNotifier,
    EcallVoiceNotifier,
)
from airflow_provider_ecall.operators.ecall import (
    EcallFaxOperator,
    EcallSmsOperator,
    EcallVoiceOperator,
)
from airflow_provider_ecall.utils.fields import FAX, SMS, VOICE, KindSpec

PARAMETERS = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"
KINDS = [
    pytest.param(SMS, SmsMessage, EcallSmsOperator, EcallSmsNotifier, "SMS", id="sms"),
    pytest.param(FAX, FaxMessage, EcallFaxOperator, EcallFaxNotifier, "Fax", id="fax"),
    pytest.param(VOICE, VoiceMessage, EcallVoiceOperator, EcallVoiceNotifier, "Voice", id="voice"),
]
#: What a surface takes besides the message fields.
OPERATOR_EXTRAS = {"self", "kwargs"}
NOTIFIER_EXTRAS = {"self", "ecall_conn_id", "context", "options"}


def _declared(message_class: type) -> dict[str, tuple[str, object]]:
    """Field -> (annotation as written, default) of a message dataclass."""
    return {
        f.name: (
            str(f.type),
            inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
        )
        for f in dataclasses.fields(message_class)
    }


def _taken(init: Any, extras: set[str]) -> dict[str, tuple[str, object]]:
    """Parameter -> (annotation as written, default) of a constructor, without ``extras``."""
    parameters = inspect.signature(init).parameters.values()
    return {p.name: (str(p.annotation), p.default) for p in parameters if p.name not in extras}


@pytest.mark.parametrize(("spec", "message_class", "operator", "notifier", "title"), KINDS)
def test_operators_take_the_fields_with_the_types_and_defaults_of_the_message(
    spec: KindSpec, message_class: type, operator: type, notifier: type, title: str
) -> None:
    assert _taken(operator.__init__, OPERATOR_EXTRAS) == _declared(message_class)
    assert tuple(operator.template_fields) == (*spec.templated, "ecall_conn_id")


@pytest.mark.parametrize(("spec", "message_class", "operator", "notifier", "title"), KINDS)
def test_notifiers_take_the_fields_with_the_types_and_defaults_of_the_message(
    spec: KindSpec, message_class: type, operator: type, notifier: type, title: str
) -> None:
    expected = _declared(message_class)
    # An alert's text is optional: the notifier writes one from the context.
    expected["message"] = ("str | None", None)
    assert _taken(notifier.__init__, NOTIFIER_EXTRAS) == expected
    assert tuple(notifier.template_fields) == (*spec.templated, "ecall_conn_id", "dedup_key")


@pytest.mark.parametrize(("spec", "message_class", "operator", "notifier", "title"), KINDS)
def test_every_field_is_assigned_to_its_own_attribute(
    spec: KindSpec, message_class: type, operator: type, notifier: type, title: str
) -> None:
    values = {name: f"value of {name}" for name in spec.fields}
    values["address"] = "+41791110000"
    made = operator(task_id="t", **values), notifier(**values)
    for instance in made:
        assert {name: getattr(instance, name) for name in spec.fields} == values


def _table_rows(title: str) -> dict[str, bool]:
    """Parameter -> templated, from the docs table after the ``**<title>**`` heading."""
    text = PARAMETERS.read_text(encoding="utf-8")
    start = re.search(rf"^\*\*{re.escape(title)}\*\*", text, re.MULTILINE)
    assert start is not None, f"docs/parameters.md has no **{title}** parameter table"
    rows: dict[str, bool] = {}
    for line in text[start.end() :].splitlines()[1:]:
        if line.startswith("**") and rows:
            break
        match = re.match(r"^\| `(\w+)` \| [^|]* \|\s*(T?)\s*\|", line)
        if match:
            rows[match.group(1)] = match.group(2) == "T"
    return rows


@pytest.mark.parametrize(("spec", "message_class", "operator", "notifier", "title"), KINDS)
def test_the_docs_tables_list_each_field_and_its_templated_mark(
    spec: KindSpec, message_class: type, operator: type, notifier: type, title: str
) -> None:
    common = _table_rows("Common to every kind")
    rows = {**common, **_table_rows(title)}
    rows.pop("truncate")  # an operator option, not a field
    assert rows.pop("ecall_conn_id") is True
    assert set(rows) == set(spec.fields)
    assert {name for name, templated in rows.items() if templated} == set(spec.templated)


def test_the_recipient_fields_are_fields_of_their_kind() -> None:
    for spec in (SMS, FAX, VOICE):
        assert spec.recipients[0] == "address"
        assert set(spec.recipients) <= set(spec.templated)
    assert SMS.recipients == ("address", "notification_address", "answer")
