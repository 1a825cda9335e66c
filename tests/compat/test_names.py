"""Every Airflow name the provider uses resolves on the running Airflow, and a feature the
running Airflow lacks is refused with the feature and the minimum version in the message."""

from __future__ import annotations

import importlib
import re

import pytest

from airflow_provider_ecall.utils import compat
from airflow_provider_ecall.utils.compat import (
    AirflowVersionError,
    airflow_at_least,
    require_airflow,
)

pytestmark = pytest.mark.compat(feature="Airflow names resolve; missing ones name their minimum")

#: Where each name lives, per first release of that location (DESIGN §4), oldest first;
#: a name whose first location is newer than 2.11 must be refused before it.
WHERE: dict[str, tuple[tuple[str, str], ...]] = {
    "DAG": (("2.11", "airflow.models.dag"), ("3.0", "airflow.sdk")),
    "BaseOperator": (("2.11", "airflow.models.baseoperator"), ("3.0", "airflow.sdk")),
    "BaseNotifier": (("2.11", "airflow.notifications.basenotifier"), ("3.0", "airflow.sdk")),
    "BaseHook": (("2.11", "airflow.hooks.base"), ("3.1", "airflow.sdk")),
    "AirflowFailException": (("2.11", "airflow.exceptions"), ("3.2", "airflow.sdk.exceptions")),
    "AirflowSkipException": (("2.11", "airflow.exceptions"), ("3.2", "airflow.sdk.exceptions")),
    "AirflowSensorTimeout": (("2.11", "airflow.exceptions"), ("3.2", "airflow.sdk.exceptions")),
    "mask_secret": (("2.11", "airflow.utils.log.secrets_masker"), ("3.0", "airflow.sdk.log")),
    "Context": (("2.11", "airflow.utils.context"), ("3.0", "airflow.sdk")),
    "BaseSensorOperator": (("2.11", "airflow.sensors.base"), ("3.0", "airflow.sdk")),
    "PokeReturnValue": (("2.11", "airflow.sensors.base"), ("3.0", "airflow.sdk")),
    "BaseTrigger": (("2.11", "airflow.triggers.base"),),
    "TriggerEvent": (("2.11", "airflow.triggers.base"),),
    "AirflowPlugin": (("2.11", "airflow.plugins_manager"),),
    "Stats": (("2.11", "airflow.stats"), ("3.2", "airflow.sdk.observability.stats")),
    "BaseEventTrigger": (("3.0", "airflow.triggers.base"),),
    "Asset": (("3.0", "airflow.sdk"),),
    "AssetWatcher": (("3.0", "airflow.sdk"),),
    # The api-server's own names (the callback receiver, approvals, reminder plans).
    "AssetModel": (("3.0", "airflow.models.asset"),),
    "asset_manager": (("3.0", "airflow.assets.manager"),),
    "TaskInstance": (("2.11", "airflow.models.taskinstance"),),
    "TaskInstanceState": (("2.11", "airflow.utils.state"),),
    "Trigger": (("2.11", "airflow.models.trigger"),),
    "create_session": (("2.11", "airflow.utils.session"),),
    "HITLDetail": (("3.1", "airflow.models.hitl"),),
    "UpdateHITLDetailPayload": (("3.1", "airflow.api_fastapi.core_api.datamodels.hitl"),),
    "update_hitl_detail": (("3.1", "airflow.api_fastapi.core_api.routes.public.hitl"),),
    "DBDagBag": (("3.1", "airflow.models.dagbag"),),
    "BaseUser": (("3.0", "airflow.api_fastapi.auth.managers.models.base_user"),),
    "XComModel": (("3.0", "airflow.models.xcom"),),
}


@pytest.mark.parametrize("name", sorted(WHERE))
def test_every_name_is_airflows_own_or_names_its_minimum(name: str) -> None:
    places = WHERE[name]
    if not airflow_at_least(places[0][0]):
        with pytest.raises(AirflowVersionError, match=rf"{name} needs Airflow {places[0][0]} or"):
            getattr(compat, name)
        return
    module = [module for since, module in places if airflow_at_least(since)][-1]
    assert getattr(compat, name) is getattr(importlib.import_module(module), name)


def test_every_public_name_is_checked() -> None:
    names = {n for n in compat.__all__ if n[0].isupper() or n == "mask_secret"}
    constants = {"AIRFLOW_VERSION", "AIRFLOW_VERSION_TEXT", "AirflowVersionError"}
    assert names - constants <= set(WHERE)
    assert set(compat._ON_DEMAND) <= set(WHERE)  # the names resolved on first use too


def test_the_running_version_is_read_from_airflow() -> None:
    import airflow

    assert airflow.__version__ == compat.AIRFLOW_VERSION_TEXT
    # The release's numbers: "3.4.0b2" and "3.3.2+local" are (3, 4, 0) and (3, 3, 2).
    release = re.match(r"\d+(\.\d+)*", airflow.__version__)
    assert release is not None
    assert ".".join(map(str, compat.AIRFLOW_VERSION)) == release.group()


def test_require_airflow_names_the_feature_and_both_versions() -> None:
    with pytest.raises(AirflowVersionError) as raised:
        require_airflow("time travel", "99.1")
    message = str(raised.value)
    assert "time travel needs Airflow 99.1 or newer" in message
    assert compat.AIRFLOW_VERSION_TEXT in message
    assert (raised.value.feature, raised.value.minimum) == ("time travel", "99.1")


def test_require_airflow_accepts_every_supported_release() -> None:
    require_airflow("anything", "2.11")
    require_airflow("anything", ".".join(map(str, compat.AIRFLOW_VERSION)))
    assert airflow_at_least("2.11.0")
    assert not airflow_at_least("99")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        compat.__getattr__("NoSuchThing")
