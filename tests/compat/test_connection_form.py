"""The connection form, through the code of the UI each release ships:

- 2.11: the Flask-AppBuilder ``ConnectionForm`` (``airflow.www.forms``), built from
  ``ProvidersManager().connection_form_widgets`` — our hook's WTForms fields, validated in a
  real Flask request;
- 3.0 and 3.1: ``HookMetaService.hook_meta_data()``, the service behind the UI's connection
  form, which calls the hook's methods under Airflow's own WTForms stand-ins;
- 3.2 and later: the same service, fed from ``conn-fields`` in the provider info (the hook's
  methods are not called).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_ecall.hooks.connection_form import (
    CONN_FIELDS,
    RULES,
    SENDER_PATTERN,
    UI_FIELD_BEHAVIOUR,
    URL_PATTERN,
)
from airflow_provider_ecall.utils.compat import airflow_at_least

pytestmark = pytest.mark.compat(feature="Connection form in the UI (extras, labels, hidden fields)")

RELABELING = UI_FIELD_BEHAVIOUR["relabeling"]


def _providers_manager() -> Any:
    return importlib.import_module("airflow.providers_manager").ProvidersManager()


@pytest.mark.skipif(airflow_at_least("3.0"), reason="Airflow 2 UI (Flask-AppBuilder)")
def test_flask_appbuilder_connection_form_has_our_fields_and_validates_them() -> None:
    flask = importlib.import_module("flask")
    babel = importlib.import_module("flask_babel")
    form_class = importlib.import_module("airflow.www.forms").create_connection_form_class()
    app = flask.Flask("ecall-form-test")
    app.config.update(WTF_CSRF_ENABLED=False, SECRET_KEY="form-test")
    babel.Babel(app)
    posted = {
        "conn_id": "ecall_form",
        "conn_type": "ecall",
        "extra__ecall__batch_size": "25",
        "extra__ecall__timeout": "12",
        "extra__ecall__default_callback": "Ops",
    }
    with app.test_request_context(method="POST", data=posted):
        form = form_class()
        assert form.validate(), form.errors
        assert form.extra__ecall__batch_size.data == 25
        assert form.extra__ecall__batch_size.label.text == CONN_FIELDS["batch_size"]["label"]
        assert 'name="extra__ecall__default_callback"' in str(form.extra__ecall__default_callback)
        assert dict(form.conn_type.choices)["ecall"] == "eCall"
        assert form.extra__ecall__timeout.data == 12  # stored as a number, not as text
    with app.test_request_context(method="POST", data={**posted, "extra__ecall__batch_size": "0"}):
        form = form_class()
        assert not form.validate()
        assert list(form.errors) == ["extra__ecall__batch_size"]
    bad = {
        "extra__ecall__timeout": ["abc", "0", "601"],
        "extra__ecall__default_callback": ["A" * 20, "Ops Team 24/7", "+41-79"],
        "extra__ecall__fallback_url": ["http://ecall.example.com", "ftp://x", "url.ecall.ch"],
    }
    for field, values in bad.items():
        for value in values:
            with app.test_request_context(method="POST", data={**posted, field: value}):
                form = form_class()
                assert not form.validate(), (field, value)
                errors = form.errors[field]
                rule = RULES[field.rsplit("__", 1)[1]]
                assert rule in errors or any("Not a valid" in e for e in errors), errors
    fallback = "https://backup.ecall.example/"
    with app.test_request_context(
        method="POST", data={**posted, "extra__ecall__fallback_url": fallback}
    ):
        assert form_class().validate()
    behaviour = _providers_manager().field_behaviours["ecall"]
    assert behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden-fields"]
    assert behaviour["relabeling"] == RELABELING


@pytest.fixture
def hook_meta_data() -> Iterator[list[Any]]:
    """What the Airflow 3 UI's connection form is built from (``HookMetaService``), computed
    once; the WTForms stand-ins Airflow 3.1 leaves in ``sys.modules`` are removed after."""
    before = set(sys.modules)
    service = importlib.import_module("airflow.api_fastapi.core_api.services.ui.connections")
    service.HookMetaService.hook_meta_data.cache_clear()
    yield service.HookMetaService.hook_meta_data()
    service.HookMetaService.hook_meta_data.cache_clear()
    for name in set(sys.modules) - before:
        if name.startswith(("wtforms", "flask_appbuilder", "flask_babel")):
            del sys.modules[name]


@pytest.mark.skipif(not airflow_at_least("3.0"), reason="Airflow 3 UI (hook metadata service)")
def test_the_ui_hook_metadata_describes_our_connection(hook_meta_data: list[Any]) -> None:
    (meta,) = [m for m in hook_meta_data if m.connection_type == "ecall"]
    assert meta.hook_name == "eCall"
    extra = meta.extra_fields or {}
    assert set(extra) == set(CONN_FIELDS)
    batch = extra["batch_size"]
    assert batch["schema"]["type"] == ["integer", "null"]
    assert (batch.get("title") or batch["schema"].get("title")) == "Batch size"
    standard = meta.standard_fields.model_dump() if meta.standard_fields else {}
    for field, label in RELABELING.items():
        assert standard[field]["title"] == label
    assert standard["port"]["hidden"] is True
    assert standard["url_schema"]["hidden"] is True  # the form's name for "schema"
    # Where the fields came from: the hook's methods before 3.2, conn-fields from 3.2 on.
    field = _providers_manager().connection_form_widgets["extra__ecall__batch_size"].field
    if airflow_at_least("3.2"):
        assert isinstance(field, dict)  # conn-fields, as given in get_provider_info()
    else:
        service = importlib.import_module("airflow.api_fastapi.core_api.services.ui.connections")
        assert isinstance(field, service.HookMetaService.MockBaseField)


SENDERS = ["Ops", "OpsTeam2411", "A", "+41791234567", "0041791234567890", "12345678901234567"]
SENDERS += ["OpsTeam24x7X", " Ops", "Ops ", "O p", "1234", "+", "", "Öps", "Ops\tX"]
URLS = ["https://url.ecall.ch", "https://a.example:8443/x", "http://127.0.0.1:8080"]
URLS += ["http://localhost/", "http://[::1]:9", "http://ecall.example", "url.ecall.ch", "https://"]
URLS += ["https://u:p@url.ecall.ch", "https://url.ecall.ch/?a=1", "https://url.ecall.ch/#x"]


@pytest.mark.parametrize("value", SENDERS)
def test_the_forms_sender_rule_is_the_hooks(value: str) -> None:
    """The pattern the forms show (2.11 validators, 3.2+ schema) takes exactly the senders
    the hook takes."""
    from airflow_provider_ecall.client.errors import EcallValidationError
    from airflow_provider_ecall.client.validation import sender

    try:
        hook_takes = bool(sender("default_callback", value))
    except EcallValidationError:
        hook_takes = False
    assert bool(re.match(SENDER_PATTERN, value)) == hook_takes


@pytest.mark.parametrize("value", URLS)
def test_the_forms_url_rule_is_the_clients(value: str) -> None:
    from airflow_provider_ecall.client.errors import EcallValidationError
    from airflow_provider_ecall.client.transport import check_base_url

    try:
        client_takes = bool(check_base_url(value))
    except EcallValidationError:
        client_takes = False
    assert bool(re.match(URL_PATTERN, value)) == client_takes
