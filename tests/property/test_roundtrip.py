"""Any value of any field either validates and reaches the sandbox unchanged, or is refused
with ``EcallValidationError`` before a request is made. No other exception escapes.

A value the client accepts but the sandbox refuses fails here with the sandbox's
``EcallRequestError``: a disagreement between the client's rules and the simulated service.
"""

from __future__ import annotations

import os
from typing import Final

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airflow_provider_ecall.client import (
    EcallClient,
    EcallValidationError,
    FaxMessage,
    Message,
    SmsMessage,
    VoiceMessage,
)
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.property import strategies as s

KINDS: Final[dict[str, type[Message]]] = {
    "sms": SmsMessage,
    "fax": FaxMessage,
    "voice": VoiceMessage,
}
FIELDS: Final = {kind: s.anything(kind) for kind in KINDS}
#: Fields whose text must arrive exactly as given (no normalisation), by vendor name.
VERBATIM: Final = {
    "message": "Message",
    "job_id": "JobID",
    "callback": "CallBack",
    "answer": "Answer",
    "subject": "Subject",
    "header_id": "HeaderId",
    "header_info": "HeaderInfo",
    "from_text": "FromText",
}
#: ``ECALL_PROPERTY_EXAMPLES=2000`` for a deeper (slower) search.
EXAMPLES = int(os.environ.get("ECALL_PROPERTY_EXAMPLES", "100"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def round_trip(
    sandbox: EcallSandbox, client: EcallClient, kind: str, values: dict[str, object]
) -> None:
    """Build and send one message; check it arrived unchanged or was refused locally."""
    sandbox.reset()
    try:
        message = KINDS[kind](**values)  # type: ignore[arg-type]
        parts = client.plan(message)
        result = client.send(message)
    except EcallValidationError as refused:
        event(f"refused: {refused.field}")
        assert sandbox.requests == [], "a refused message must not reach the network"
        return
    event("accepted")
    received = sandbox.messages
    assert len(received) == len(parts) == len(result.batches)
    for arrived, part, job_id in zip(received, parts, result.job_ids, strict=True):
        assert arrived.kind == kind
        assert arrived.params == {**part.to_params(), "JobID": job_id}
        assert arrived.message.encode("utf-8") == message.message.encode("utf-8")
        assert arrived.addresses == part.recipients
    for name, vendor in VERBATIM.items():
        given_value = values.get(name)
        if isinstance(given_value, str) and not (name == "job_id" and len(parts) > 1):
            assert received[0].params[vendor] == given_value


CASES = [
    pytest.param(kind, name, id=f"{kind}-{name}")
    for kind, fields in FIELDS.items()
    for name in fields
]


@pytest.mark.parametrize(("kind", "name"), CASES)
@SETTINGS
@given(data=st.data())
def test_each_field_alone(
    sandbox: EcallSandbox, client: EcallClient, kind: str, name: str, data: st.DataObject
) -> None:
    value = data.draw(FIELDS[kind][name], label=name)
    round_trip(sandbox, client, kind, {**s.BASE, name: value})


@pytest.mark.parametrize("kind", list(KINDS))
@settings(SETTINGS, max_examples=2 * EXAMPLES)
@given(data=st.data())
def test_all_fields_together(
    sandbox: EcallSandbox, client: EcallClient, kind: str, data: st.DataObject
) -> None:
    """Every field at once, plausible values, with one field at a time taking any value."""
    fields = s.plausible(kind)
    wild = data.draw(st.sampled_from([None, *fields]), label="wild field")
    if wild is not None:
        fields[wild] = FIELDS[kind][wild]
    required = {name: fields[name] for name in ("address", "message")}
    optional = {name: strategy for name, strategy in fields.items() if name not in required}
    values = data.draw(st.fixed_dictionaries(required, optional=optional), label="fields")
    round_trip(sandbox, client, kind, values)
