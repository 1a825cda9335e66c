"""``EcallHook``: an Airflow Connection turned into an :class:`EcallClient`.

The hook adds the Airflow concerns only — connection reading, secret masking, the connection
form and ``test_connection`` — and the connection's default sender. Messages are built by
their classes in the client, and every request goes through the client; there is no HTTP
code here.
"""

from __future__ import annotations

from functools import cached_property
from importlib import import_module
from typing import TYPE_CHECKING, ClassVar, Final

from airflow_provider_ecall.client.errors import (
    EcallAuthError,
    EcallError,
    EcallValidationError,
    describe,
)
from airflow_provider_ecall.hooks.connection_form import CONN_FIELDS, RULES, UI_FIELD_BEHAVIOUR
from airflow_provider_ecall.utils.compat import BaseHook, mask_secret

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_provider_ecall.client.client import EcallClient, StatusQuery
    from airflow_provider_ecall.client.messages import Message
    from airflow_provider_ecall.client.responses import StatusRecord
    from airflow_provider_ecall.client.results import SendResult
    from airflow_provider_ecall.hooks.settings import ConnectionSettings
    from airflow_provider_ecall.utils.fields import FaxArguments, SmsArguments, VoiceArguments

#: The JobID ``test_connection`` asks ``Api/State`` about; eCall knows no such job.
CONNECTION_TEST_JOB_ID: Final = "airflow-connection-test"


class EcallHook(BaseHook):
    """Send SMS, fax and voice messages through an ``ecall`` connection.

    Nothing is read or sent when the hook is created (DAG files are parsed constantly); the
    connection is read on the first :meth:`get_client`.

    :param ecall_conn_id: the Airflow connection: ``login`` = UserName, ``password``,
        ``host`` = base URL (default ``https://url.ecall.ch``), extras ``timeout``,
        ``default_callback`` and ``batch_size``.
    """

    conn_name_attr: ClassVar[str] = "ecall_conn_id"
    default_conn_name: ClassVar[str] = "ecall_default"
    conn_type: ClassVar[str] = "ecall"
    hook_name: ClassVar[str] = "eCall"

    def __init__(self, *, ecall_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.ecall_conn_id = ecall_conn_id

    # -- connection --------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection, read once and checked; its password is masked in logs at once.

        :raises EcallValidationError: a connection field is missing or malformed.
        """
        # Imported here and below, not at module level: DAG files import this module on
        # every parse, and only a send needs the connection reader and the HTTP stack.
        from airflow_provider_ecall.hooks.settings import read_settings

        conn = self.get_connection(self.ecall_conn_id)
        if conn.password:
            mask_secret(conn.password)
        return read_settings(conn)

    @cached_property
    def _client(self) -> EcallClient:
        from airflow_provider_ecall.hooks.settings import client_for, connection_error

        try:
            return client_for(self.settings)
        except EcallValidationError as exc:
            raise connection_error(self.ecall_conn_id, exc) from exc

    def get_client(self) -> EcallClient:
        """The :class:`EcallClient` of this connection, created once per hook.

        :raises EcallValidationError: the connection is incomplete, or names a plain
            ``http://`` host that is not loopback.
        """
        return self._client

    def get_conn(self) -> EcallClient:
        """The same as :meth:`get_client` (Airflow's usual hook method name)."""
        return self.get_client()

    # -- sending -----------------------------------------------------------------------------
    # Each kind's message is built by its class in the client (the one builder), imported
    # when a send happens: DAG files import this module on every parse.

    def send(self, message: Message, *, skip_existing: bool = False) -> SendResult:
        """Send a message value through this connection's client.

        :param message: an :class:`~airflow_provider_ecall.client.SmsMessage`,
            :class:`~airflow_provider_ecall.client.FaxMessage` or
            :class:`~airflow_provider_ecall.client.VoiceMessage`.
        :param skip_existing: first ask ``Api/State`` whether each request's JobID exists and
            send only what eCall does not have yet (safe re-runs).
        :return: the client's :class:`SendResult`.
        :raises EcallError: refusal, or a passing failure.
        """
        return self.get_client().send(message, skip_existing=skip_existing)

    def send_sms(
        self, *, skip_existing: bool = False, **fields: Unpack[SmsArguments]
    ) -> SendResult:
        """Send an SMS (vendor ``Api/Sms``). The fields, ``truncate`` and ``timezone`` are
        those of :class:`~airflow_provider_ecall.client.SmsMessage`; ``callback`` defaults to
        the connection's ``default_callback``. ``answer`` (or a ``notification_address``
        entry) ``"ecall:callback"`` becomes the callback receiver's URL signed for this
        send's JobID (:mod:`~airflow_provider_ecall.hooks.callback_urls`).

        :param skip_existing: do not send a JobID eCall already has.
        :raises EcallError: validation (nothing sent), refusal, or a passing failure.
        """
        from airflow_provider_ecall.client.messages import SmsMessage
        from airflow_provider_ecall.hooks.callback_urls import put_callback_urls

        put_callback_urls(fields)
        if fields.get("callback") is None:
            fields["callback"] = self.settings.default_callback
        return self.get_client().send(SmsMessage(**fields), skip_existing=skip_existing)

    def send_fax(
        self, *, skip_existing: bool = False, **fields: Unpack[FaxArguments]
    ) -> SendResult:
        """Send a fax (vendor ``Api/Fax``). The fields, ``truncate`` and ``timezone`` are
        those of :class:`~airflow_provider_ecall.client.FaxMessage`.

        :param skip_existing: do not send a JobID eCall already has.
        :raises EcallError: validation (nothing sent), refusal, or a passing failure.
        """
        from airflow_provider_ecall.client.messages import FaxMessage

        return self.get_client().send(FaxMessage(**fields), skip_existing=skip_existing)

    def send_voice(
        self, *, skip_existing: bool = False, **fields: Unpack[VoiceArguments]
    ) -> SendResult:
        """Call and speak a text (vendor ``Api/Voice``). The fields, ``truncate`` and
        ``timezone`` are those of :class:`~airflow_provider_ecall.client.VoiceMessage`.

        :param skip_existing: do not send a JobID eCall already has.
        :raises EcallError: validation (nothing sent), refusal, or a passing failure.
        """
        from airflow_provider_ecall.client.messages import VoiceMessage

        return self.get_client().send(VoiceMessage(**fields), skip_existing=skip_existing)

    def get_status(self, **query: Unpack[StatusQuery]) -> tuple[StatusRecord, ...]:
        """Query ``Api/State`` by JobID or by a window of send times (sends nothing); the
        arguments are those of :meth:`EcallClient.get_status` (``job_id``, or ``start_date``
        and ``end_date``)."""
        return self.get_client().get_status(**query)

    # -- Airflow UI ----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with a status query for a job that does not exist.

        Nothing is sent and nothing is charged.

        :return: ``(True, …)`` when eCall answers the query, ``(False, reason)`` otherwise.
        """
        try:
            records = self.get_status(job_id=CONNECTION_TEST_JOB_ID)
        except EcallAuthError as exc:
            what = describe(exc.result_code, exc.result_text)
            return False, f"credentials refused by eCall ({what})"
        except EcallError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, (
            f"eCall at {self.get_client().base_url} accepted the credentials of "
            f"{self.settings.username!r} (status query answered, {len(records)} record(s))"
        )

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, object]:
        """Standard form fields to hide and relabel (Airflow UIs before 3.2 read this)."""
        return {
            "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
            "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
            "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, object]:
        """The extra fields as WTForms fields: the Flask-AppBuilder form of Airflow 2.11, and
        the hook metadata Airflow 3.0 and 3.1 build their form from (with mocked WTForms).

        Airflow 3.2+ reads the same fields from ``conn-fields`` in the provider info.
        Flask-AppBuilder and Flask-Babel are used when installed (2.11 always has them).
        """
        # Imported by name: WTForms and Flask-AppBuilder exist only where the old UI runs.
        forms = import_module("wtforms")
        validators = import_module("wtforms.validators")
        try:
            widget: object = import_module("flask_appbuilder.fieldwidgets").BS3TextFieldWidget()
        except ImportError:  # Airflow 3.0 with WTForms but without Flask-AppBuilder
            widget = None
        try:
            label = import_module("flask_babel").lazy_gettext
        except ImportError:
            label = str

        widgets: dict[str, object] = {}
        for name, spec in CONN_FIELDS.items():
            schema, rule = spec["schema"], RULES[name]
            checks = [validators.Optional()]
            if "minimum" in schema:
                low, high = schema["minimum"], schema["maximum"]
                checks.append(validators.NumberRange(min=low, max=high, message=rule))
            if "maxLength" in schema:
                checks.append(validators.Length(max=schema["maxLength"], message=rule))
            if "pattern" in schema:
                checks.append(validators.Regexp(schema["pattern"], message=rule))
            # A number is stored as one. The forms before 3.2 take string, integer, password
            # and boolean fields only: they take whole seconds (the extra JSON, a fraction).
            numeric = {"integer", "number"} & set(schema["type"])
            field = forms.IntegerField if numeric else forms.StringField
            widgets[name] = field(
                label(spec["label"]),
                description=spec.get("description"),
                validators=checks,
                widget=widget,
            )
        return widgets
