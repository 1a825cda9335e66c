"""Approvals by SMS on every supported Airflow: from 3.1 (human-in-the-loop tasks) the
notifier is built; before, a DAG file that creates one fails at parse naming 3.1."""

from __future__ import annotations

import pytest

from airflow_provider_ecall.utils.compat import AirflowVersionError, airflow_at_least

pytestmark = pytest.mark.compat(
    feature="Approvals by SMS: HITL notifier, replies as responses", since="3.1"
)

NUMBER = "+41791112233"


def test_the_notifier_is_built_from_3_1_and_names_its_minimum_before() -> None:
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    if not airflow_at_least("3.1"):
        with pytest.raises(AirflowVersionError, match=r"approvals by SMS .* needs Airflow 3\.1"):
            EcallHITLNotifier(address=NUMBER)
        return
    notifier = EcallHITLNotifier(address=NUMBER, max_pages=1)
    assert notifier.address == NUMBER
    assert notifier.max_pages == 1


@pytest.mark.skipif(not airflow_at_least("3.1"), reason="the notifier is refused before 3.1")
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"address": ""}, "address is required"),
        ({"address": NUMBER, "max_pages": 11}, "max_pages must be a whole number from 1 to 10"),
        ({"address": NUMBER, "max_pages": "2"}, "max_pages must be a whole number"),
    ],
)
def test_bad_arguments_fail_the_parse_naming_the_argument(
    arguments: dict[str, object], message: str
) -> None:
    from airflow_provider_ecall.notifications.hitl import EcallHITLNotifier

    with pytest.raises(ValueError, match=message):
        EcallHITLNotifier(**arguments)  # type: ignore[arg-type]


@pytest.mark.skipif(not airflow_at_least("3.1"), reason="the receiver's approvals need 3.1")
def test_the_responder_mapping_is_read_and_refused_by_name() -> None:
    from airflow_provider_ecall.plugins.approvals import Responder, read_responders

    assert read_responders("+41791112233=alice, 0041791112244=7:bob") == {
        "+41791112233": Responder("alice", "alice"),
        "+41791112244": Responder("7", "bob"),
    }
    for bad in ("alice", "+41791112233", "+41791112233=", "079111=alice", "+41 79=alice"):
        with pytest.raises(ValueError, match=r"\[ecall\] approval_responders") as caught:
            read_responders(bad)
        assert "791112233" not in str(caught.value)
    with pytest.raises(ValueError, match="mapped twice"):
        read_responders("+41791112233=a 0041791112233=b")
