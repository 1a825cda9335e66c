"""EcallHook against the sandbox, with connections from ``AIRFLOW_CONN_*`` environment variables."""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys
import types
import typing
import uuid
from typing import Any

import pytest
import typing_extensions

from airflow_provider_ecall import get_provider_info
from airflow_provider_ecall.client import (
    EcallValidationError,
    FaxMessage,
    SmsMessage,
    VoiceMessage,
)
from airflow_provider_ecall.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_ecall.hooks.ecall import EcallHook
from airflow_provider_ecall.operators.ecall import (
    EcallFaxOperator,
    EcallSmsOperator,
    EcallVoiceOperator,
)
from airflow_provider_ecall.sandbox import EcallSandbox
from airflow_provider_ecall.utils.fields import FAX, SMS, VOICE, FaxFields, SmsFields, VoiceFields
from tests._airflow import Connection, redact

NUMBER = "+41791112233"

pytestmark = pytest.mark.compat(feature="Hook: connection, masking, test_connection")


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str = "ecall_default", **fields: Any
) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "ecall", **fields})
    )


def sandbox_connection(sb: EcallSandbox, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"host": sb.base_url, "login": sb.username, "password": sb.password}
    if extra:
        fields["extra"] = extra
    return fields


def test_init_reads_no_connection() -> None:
    hook = EcallHook(ecall_conn_id="no_such_connection")
    assert hook.ecall_conn_id == "no_such_connection"
    with pytest.raises(Exception, match="no_such_connection"):
        hook.get_client()


def test_hook_attributes_match_the_provider_info() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["connection-type"] == EcallHook.conn_type == "ecall"
    assert conn_type["hook-class-name"] == f"{EcallHook.__module__}.{EcallHook.__name__}"
    assert EcallHook.default_conn_name == "ecall_default"
    assert EcallHook.conn_name_attr == "ecall_conn_id"
    assert EcallHook.hook_name == conn_type["hook-name"] == "eCall"


def test_client_is_created_once_from_the_connection(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, **sandbox_connection(ecall_sandbox, timeout=7, batch_size="2"))
    hook = EcallHook()
    client = hook.get_client()
    assert hook.get_client() is client
    assert hook.get_conn() is client
    assert client.base_url == ecall_sandbox.base_url
    assert client.username == ecall_sandbox.username
    assert client.batch_size == 2
    assert client._transport.timeout == (5.0, 7.0)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "https://url.ecall.ch"),
        ("url.ecall.ch", None, "https://url.ecall.ch"),
        ("https://url.ecall.ch/", None, "https://url.ecall.ch"),
        ("ecall.example.com", 8443, "https://ecall.example.com:8443"),
    ],
)
def test_host_becomes_an_https_base_url(
    monkeypatch: pytest.MonkeyPatch, host: str | None, port: int | None, expected: str
) -> None:
    set_connection(monkeypatch, host=host, port=port, login="user", password="secret-pw")
    assert EcallHook().get_client().base_url == expected


def test_plain_http_to_a_remote_host_is_refused_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_connection(monkeypatch, host="http://ecall.example.com", login="u", password="secret-pw")
    with pytest.raises(EcallValidationError) as caught:
        EcallHook().get_client()
    assert caught.value.field == "connection 'ecall_default' host"
    assert "plain http is refused" in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"timeout": "soon"}, "timeout"), ({"batch_size": 0}, "batch_size")],
)
def test_malformed_extras_are_named(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, object], field: str
) -> None:
    set_connection(monkeypatch, host="url.ecall.ch", login="u", password="pw", extra=extra)
    with pytest.raises(EcallValidationError, match=f"connection 'ecall_default' extra {field}"):
        EcallHook().get_client()


def test_missing_login_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, host="url.ecall.ch", password="pw")
    with pytest.raises(EcallValidationError, match="connection 'ecall_default' login"):
        EcallHook().get_client()


def test_default_sender_applies_when_a_send_names_none(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sandbox_connection(ecall_sandbox, default_callback="Airflow")
    set_connection(monkeypatch, **conn)
    hook = EcallHook()
    hook.send_sms(address=NUMBER, message="one")
    hook.send_sms(address=NUMBER, message="two", callback="+41790000000")
    first, second = ecall_sandbox.messages
    assert first.params["CallBack"] == "Airflow"
    assert second.params["CallBack"] == "+41790000000"


def test_batch_size_extra_splits_the_recipients(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, **sandbox_connection(ecall_sandbox, batch_size=2))
    result = EcallHook().send_sms(
        address=[NUMBER, "+41791112244", "+41791112255"], message="hi", job_id="batch-job"
    )
    assert result.job_ids == ("batch-job-1", "batch-job-2")
    assert [m.addresses for m in ecall_sandbox.messages] == [
        (NUMBER, "+41791112244"),
        ("+41791112255",),
    ]


def test_each_kind_sends_its_fields(ecall_sandbox_connection: EcallSandbox) -> None:
    hook = EcallHook()
    hook.send_sms(address=NUMBER, message="sms", msg_type="flash", no_log=True)
    hook.send_fax(address=NUMBER, message="fax", subject="Report", number_of_retries=2)
    hook.send_voice(address=NUMBER, message="voice", language="en", from_text="Airflow")
    sms, fax, voice = ecall_sandbox_connection.messages
    assert (sms.kind, sms.message, sms.params["MsgType"], sms.params["NoLog"]) == (
        "sms",
        "sms",
        "Flash",
        "1",
    )
    assert (fax.kind, fax.params["Subject"], fax.params["NumberOfRetries"]) == (
        "fax",
        "Report",
        "2",
    )
    assert (voice.kind, voice.params["Language"], voice.params["FromText"]) == (
        "voice",
        "EN",
        "Airflow",
    )


def test_naive_send_date_is_read_in_the_given_timezone(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    EcallHook().send_sms(
        address=NUMBER, message="later", send_date="2030-01-15T10:00:00", timezone="Europe/Zurich"
    )
    (sent,) = ecall_sandbox_connection.messages
    assert sent.params["SendDate"] == "2030-01-15T10:00:00+01:00"


def test_truncate_shortens_an_sms_and_without_it_nothing_is_sent(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    hook = EcallHook()
    with pytest.raises(EcallValidationError, match="message"):
        hook.send_sms(address=NUMBER, message="x" * 2000)
    assert ecall_sandbox_connection.requests == []
    hook.send_sms(address=NUMBER, message="x" * 2000, truncate=True)
    (sent,) = ecall_sandbox_connection.messages
    assert len(sent.message) == 1530
    assert sent.message.endswith("...")


def test_skip_existing_does_not_send_a_known_job_again(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    hook = EcallHook()
    hook.send_sms(address=NUMBER, message="once", job_id="known-job")
    again = hook.send_sms(address=NUMBER, message="once", job_id="known-job", skip_existing=True)
    assert again.skipped
    assert len(ecall_sandbox_connection.messages) == 1


def test_get_status_finds_a_sent_job(ecall_sandbox_connection: EcallSandbox) -> None:
    hook = EcallHook()
    hook.send_voice(address=NUMBER, message="call", job_id="status-job")
    assert hook.get_status(job_id="status-job")
    assert hook.get_status(job_id="unknown-job") == ()


def test_test_connection_accepts_good_credentials_and_sends_nothing(
    ecall_sandbox_connection: EcallSandbox,
) -> None:
    ok, text = EcallHook().test_connection()
    assert ok, text
    assert "accepted the credentials" in text
    assert ecall_sandbox_connection.messages == []
    assert {r.endpoint for r in ecall_sandbox_connection.requests} == {"state"}


def test_test_connection_reports_refused_credentials_and_sends_nothing(
    ecall_sandbox: EcallSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sandbox_connection(ecall_sandbox) | {"password": "wrong-password"}
    set_connection(monkeypatch, **conn)
    ok, text = EcallHook().test_connection()
    assert not ok
    assert text.startswith("credentials refused by eCall (PermissionDenied")
    assert "wrong-password" not in text
    assert ecall_sandbox.messages == []
    assert {r.endpoint for r in ecall_sandbox.requests} == {"state"}


def test_test_connection_reports_a_bad_connection_without_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_connection(monkeypatch, host="http://ecall.example.com", login="u", password="pw")
    ok, text = EcallHook().test_connection()
    assert not ok
    assert "plain http is refused" in text


def test_password_is_masked_as_soon_as_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hex only: Airflow 2.11's masker also masks short secrets other tests registered ("pw").
    password = uuid.uuid4().hex
    with EcallSandbox(password=password) as sb:
        set_connection(monkeypatch, **sandbox_connection(sb))
        hook = EcallHook()
        assert redact(f"x {password} y") == f"x {password} y"
        hook.get_client()
        assert redact(f"x {password} y") == "x *** y"
        assert password not in repr(hook.settings)
        assert password not in repr(hook.get_client())


def test_hook_masks_the_password_itself_whatever_source_the_connection_has() -> None:
    # Airflow 3.3 already masks passwords it hands out through Connection.get; a connection
    # from elsewhere (another lookup path, an older Airflow) must be masked by the hook too.
    password = uuid.uuid4().hex

    class DirectHook(EcallHook):
        @classmethod
        def get_connection(cls, conn_id: str) -> Connection:
            return Connection(
                conn_id=conn_id,
                conn_type="ecall",
                host="url.ecall.ch",
                login="u",
                password=password,
            )

    hook = DirectHook()
    assert redact(password) == password
    hook.get_client()
    assert redact(f"x {password} y") == "x *** y"


def test_ui_field_behaviour_is_the_provider_info_one() -> None:
    behaviour = EcallHook.get_ui_field_behaviour()
    assert behaviour == {
        "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
        "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
        "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
    }


def test_connection_form_widgets_cover_the_conn_fields() -> None:
    pytest.importorskip("flask_appbuilder")
    assert set(EcallHook.get_connection_form_widgets()) == set(CONN_FIELDS)


def _union_members(hint: object) -> set[object]:
    """The members of a (nested) union annotation, e.g. ``{str, datetime, None}``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return set().union(*(_union_members(arg) for arg in typing.get_args(hint)))
    return {hint}


def _field_hints(cls: type) -> dict[str, object]:
    """The resolved annotations of a dataclass's fields. Not ``get_type_hints(cls)``: on
    Python 3.10 it cannot resolve the string ``InitVar[...]`` of an init-only parameter."""
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    holder = type("Fields", (), {"__annotations__": fields, "__module__": cls.__module__})
    return typing.get_type_hints(holder)


@pytest.mark.parametrize(
    ("spec", "fields", "message_class", "operator", "hook_method"),
    [
        (SMS, SmsFields, SmsMessage, EcallSmsOperator, EcallHook.send_sms),
        (FAX, FaxFields, FaxMessage, EcallFaxOperator, EcallHook.send_fax),
        (VOICE, VoiceFields, VoiceMessage, EcallVoiceOperator, EcallHook.send_voice),
    ],
)
def test_every_layer_takes_exactly_the_fields_of_the_message(
    spec: Any, fields: type, message_class: type, operator: type, hook_method: Any
) -> None:
    ordered = tuple(f.name for f in dataclasses.fields(message_class))
    assert spec.fields == ordered
    assert message_class.kind == spec.kind
    # The TypedDict the hook and the notifiers take declares each field as the dataclass does.
    hints = _field_hints(message_class)
    names = {**vars(sys.modules[message_class.__module__]), "Required": typing_extensions.Required}
    # typing_extensions strips `Required[...]` on Python 3.10 too (its typing does not know it)
    declared = typing_extensions.get_type_hints(fields, localns=names)
    assert declared == {name: hints[name] for name in ordered}
    # templated: every field whose type admits text (str, or an alias that includes it),
    # except the whole numbers, which also take digit strings
    members = {name: _union_members(hints[name]) for name in ordered}
    assert spec.templated == tuple(
        n for n in ordered if str in members[n] and int not in members[n]
    )
    operator_params = set(inspect.signature(operator.__init__).parameters) - {"self", "kwargs"}
    assert operator_params == set(ordered)
    hook_params = inspect.signature(hook_method).parameters
    assert set(hook_params) == {"self", "skip_existing", "fields"}
    kind_name = message_class.__name__.removesuffix("Message")
    assert hook_params["fields"].annotation == f"Unpack[{kind_name}Arguments]"
