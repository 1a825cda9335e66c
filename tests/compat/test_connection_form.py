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
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_ecall import _CONN_FIELDS, _UI_FIELD_BEHAVIOUR
from airflow_provider_ecall._compat import airflow_at_least

pytestmark = pytest.mark.compat(feature="Connection form in the UI (extras, labels, hidden fields)")

RELABELING = _UI_FIELD_BEHAVIOUR["relabeling"]


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
        assert form.extra__ecall__batch_size.label.text == _CONN_FIELDS["batch_size"]["label"]
        assert 'name="extra__ecall__default_callback"' in str(form.extra__ecall__default_callback)
        assert dict(form.conn_type.choices)["ecall"] == "eCall"
    with app.test_request_context(method="POST", data={**posted, "extra__ecall__batch_size": "0"}):
        form = form_class()
        assert not form.validate()
        assert list(form.errors) == ["extra__ecall__batch_size"]
    behaviour = _providers_manager().field_behaviours["ecall"]
    assert behaviour["hidden_fields"] == _UI_FIELD_BEHAVIOUR["hidden-fields"]
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
    assert set(extra) == set(_CONN_FIELDS)
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
