"""The sweeper's routing: first matching rule wins; malformed rules stop the start."""

from __future__ import annotations

import pytest

from airflow_provider_ecall.client.errors import EcallValidationError
from airflow_provider_ecall.watchdog._routing import parse_routes, route_for

RULES = [
    {"dags": ["billing_*"], "tasks": ["load_*"], "to": "+41791110001", "kind": "voice"},
    {"dags": "*", "tags": ["prod"], "to": ["+41791110003", "+41791110002"], "dag_runs": True},
]


def test_the_first_matching_rule_decides_recipients_and_kind() -> None:
    routes = parse_routes(RULES)
    voice = route_for(routes, "billing_daily", "load_eu", ())
    assert voice is not None
    assert (voice.kind, voice.to) == ("voice", ("+41791110001",))
    prod = route_for(routes, "billing_daily", "report", ["prod"])
    assert prod is not None
    assert (prod.kind, prod.to) == ("sms", ("+41791110002", "+41791110003"))  # sorted


def test_tags_tasks_and_dag_runs_limit_what_a_rule_matches() -> None:
    routes = parse_routes(RULES)
    assert route_for(routes, "billing_daily", "report", ["dev"]) is None  # no prod tag
    assert route_for(routes, "other", None, ["prod"]) is not None  # run failures: rule 2
    assert route_for(routes, "billing_daily", None, []) is None  # rule 1 has no dag_runs
    assert route_for(parse_routes([]), "any", "task", ["prod"]) is None


@pytest.mark.parametrize(
    ("rules", "field", "rule"),
    [
        ({"dags": "*"}, "routes", "JSON list"),
        (["x"], "routes[0]", "JSON object"),
        ([{"dags": "*"}], "routes[0]", "needs 'dags'"),
        ([{"dags": "*", "to": "+41791110001", "kind": "fax"}], "routes[0].kind", "one of"),
        ([{"dags": "*", "to": "0791110001"}], "routes[0].to", ""),
        ([{"dags": [], "to": "+41791110001"}], "routes[0].dags", "non-empty"),
        ([{"dags": "*", "to": "+41791110001", "dag_run": True}], "routes[0].dag_run", "not a rule"),
        ([{"dags": "*", "to": "+41791110001", "dag_runs": "yes"}], "routes[0].dag_runs", "true"),
    ],
)
def test_a_malformed_rule_names_its_field(rules: object, field: str, rule: str) -> None:
    with pytest.raises(EcallValidationError) as caught:
        parse_routes(rules)
    assert caught.value.field == field
    assert rule in caught.value.rule
