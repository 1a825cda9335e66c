"""Certificate verification is on unless switched off explicitly with ``verify=False``.

A real HTTPS server on 127.0.0.1 with a fresh self-signed certificate stands in for a
man in the middle: by default the client refuses it with ``EcallTlsError`` and delivers
nothing; trusting that certificate explicitly (``verify=<its path>``) works.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from airflow_provider_ecall.client import EcallClient, EcallTlsError, SmsMessage
from tests.hardening.servers import TlsServer

SMS = SmsMessage(address="+41791112233", message="x", job_id="tls")


@pytest.fixture(autouse=True)
def no_ca_bundle_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without the CA variables (some machines set them to the system bundle,
    which would make verification happen whatever the client asked)."""
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TlsServer]:
    with TlsServer(tmp_path) as running:
        yield running


def test_self_signed_certificate_is_refused_by_default(server: TlsServer) -> None:
    with pytest.raises(EcallTlsError) as caught:
        EcallClient(server.url, "user", "pw").send(SMS)
    assert caught.value.retryable is False
    assert server.hits == []


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_empty_ca_bundle_variables_do_not_switch_verification_off(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    monkeypatch.setenv(variable, "")
    with pytest.raises(EcallTlsError):
        EcallClient(server.url, "user", "pw").send(SMS)
    assert server.hits == []


def test_a_session_with_verify_off_does_not_switch_it_off(server: TlsServer) -> None:
    """An injected session's ``verify = False`` does not win over the client's default."""
    with requests.Session() as session:
        session.verify = False
        with pytest.raises(EcallTlsError):
            EcallClient(server.url, "user", "pw", session=session).send(SMS)
    assert server.hits == []


def test_trusting_that_certificate_explicitly_works(server: TlsServer) -> None:
    result = EcallClient(server.url, "user", "pw", verify=str(server.cert)).send(SMS)
    assert result.batches[0].result_code == 0
    assert server.hits == ["/Api/Sms"]


def test_a_ca_bundle_variable_replaces_the_trusted_roots(
    server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a private CA is trusted through Airflow (the connection has no ``verify``):
    ``REQUESTS_CA_BUNDLE`` names a bundle, still verified against it."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    result = EcallClient(server.url, "user", "pw").send(SMS)
    assert result.batches[0].result_code == 0


def test_verify_false_works_only_explicitly_and_warns(server: TlsServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = EcallClient(server.url, "user", "pw", verify=False).send(SMS)
    assert result.batches[0].result_code == 0
    assert any("Unverified HTTPS request" in str(item.message) for item in caught)
