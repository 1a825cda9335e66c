"""The SMS-command example's parsing: which SMS start which DAG run, and under what id."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "ecall_sms_commands.py"
ALLOWED = "+41790000011"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecall_sms_commands_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sms(message: str, sender: str = ALLOWED) -> dict[str, str]:
    return {"message_id": "m-42", "message": message, "address_from": sender}


def test_rerun_from_an_allowed_sender_starts_one_run_named_after_the_message(
    example: ModuleType,
) -> None:
    command = example.parse_command(_sms("rerun ecall_pipeline_report"))
    assert command == {
        "trigger_dag_id": "ecall_pipeline_report",
        "trigger_run_id": "sms__m-42",
        "conf": {"requested_by": "+41******011", "message_id": "m-42"},
    }


@pytest.mark.parametrize(
    "sms",
    [
        _sms("thanks"),
        _sms("RERUN"),
        _sms("RERUN ecall_pipeline_report now"),
        _sms("RERUN some_other_dag"),
        _sms("RERUN ecall_pipeline_report", sender="+41795556677"),
    ],
)
def test_anything_else_starts_nothing(
    example: ModuleType, sms: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert example.parse_command(sms) is None
    assert "+41795556677" not in caplog.text
