"""Hostile XML in every body kind the client parses is refused, and nothing is fetched.

The fault matrix (``tests/client/test_errors.py``) covers billion laughs and a SYSTEM entity
in a send answer; here every attack runs against ``<Result>`` (send), ``<Statuses>``
(``Api/State``) and ``<IncomingSMS>`` (``Api/Cache/GetNextMessage``), with a canary server
that must never be contacted and a secret file whose content must never surface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_ecall.client import EcallClient, EcallResponseError, SmsMessage
from airflow_provider_ecall.sandbox import EcallSandbox
from tests.hardening.servers import Canary

SECRET = "canary-file-content-7f3a"

#: Where the hostile part goes in each body kind: a DOCTYPE, and the text of one element.
SHAPES = {
    "sms": "<Result><ResultCode>0</ResultCode><ResultText>{ref}</ResultText></Result>",
    "state": (
        "<Statuses><Status><JobID>j</JobID><StatusCode>1</StatusCode>"
        "<StatusText>{ref}</StatusText><TimeStamp>2026-01-01T00:00:00</TimeStamp></Status>"
        "</Statuses>"
    ),
    "cache": (
        "<IncomingSMS><Result><ResultCode>0</ResultCode><ResultText>OK</ResultText></Result>"
        "<MessageID>m1</MessageID><SMS><Message>{ref}</Message><AddressTo>+41790000000"
        "</AddressTo><AddressFrom>+41791112233</AddressFrom><TimeStamp>2026-01-01T00:00:00"
        "</TimeStamp></SMS></IncomingSMS>"
    ),
}
ROOTS = {"sms": "Result", "state": "Statuses", "cache": "IncomingSMS"}
CALLS: dict[str, Callable[[EcallClient], object]] = {
    "sms": lambda client: client.send(SmsMessage(address="+41791112233", message="x")),
    "state": lambda client: client.get_status(job_id="j"),
    "cache": lambda client: client.get_next_inbound(),
}


def attacks(root: str, canary: str, secret_file: Path) -> dict[str, tuple[str, str]]:
    """``name -> (doctype, entity reference)`` of each attack on a body with ``root``."""
    lol = '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    lol += '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">'
    return {
        "billion-laughs": (f"<!DOCTYPE {root} [{lol}]>", "&d;"),
        "quadratic-blowup": (f'<!DOCTYPE {root} [<!ENTITY q "{"x" * 50_000}">]>', "&q;" * 200),
        "system-file": (
            f'<!DOCTYPE {root} [<!ENTITY s SYSTEM "{secret_file.as_uri()}">]>',
            "&s;",
        ),
        "system-url": (f'<!DOCTYPE {root} [<!ENTITY u SYSTEM "{canary}/entity">]>', "&u;"),
        "parameter-entity": (
            f'<!DOCTYPE {root} [<!ENTITY % p SYSTEM "{canary}/param.dtd"> %p;]>',
            "OK",
        ),
        "parameter-entity-internal": (
            f"<!DOCTYPE {root} [<!ENTITY % p \"<!ENTITY i 'inner'>\"> %p;]>",
            "&i;",
        ),
        "external-dtd": (f'<!DOCTYPE {root} SYSTEM "{canary}/evil.dtd">', "OK"),
        "public-dtd": (f'<!DOCTYPE {root} PUBLIC "-//EVIL//X" "{canary}/public.dtd">', "OK"),
        "xml-declaration-and-dtd": (
            f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE {root} SYSTEM "{canary}/d.dtd">',
            "OK",
        ),
    }


ATTACK_NAMES = list(attacks("Result", "http://x", Path("/x")))


@pytest.mark.parametrize("attack", ATTACK_NAMES)
@pytest.mark.parametrize("endpoint", list(SHAPES))
def test_hostile_xml_is_refused_without_fetching(
    client: EcallClient,
    sandbox: EcallSandbox,
    canary: Canary,
    tmp_path: Path,
    endpoint: str,
    attack: str,
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    doctype, ref = attacks(ROOTS[endpoint], canary.url, secret_file)[attack]
    sandbox.inject(endpoint=endpoint, status=200, body=doctype + SHAPES[endpoint].format(ref=ref))

    with pytest.raises(EcallResponseError, match="unsafe XML") as caught:
        CALLS[endpoint](client)

    assert canary.hits == [], "the parser fetched something"
    error = caught.value
    for text in (str(error), repr(error), error.result_text or ""):
        assert SECRET not in text
        assert "lol" * 10 not in text


@pytest.mark.parametrize("endpoint", list(SHAPES))
def test_the_same_bodies_without_the_attack_parse(
    client: EcallClient, sandbox: EcallSandbox, endpoint: str
) -> None:
    """The control: each body shape is fine on its own, so the refusals above are the
    attack's doing."""
    sandbox.inject(endpoint=endpoint, status=200, body=SHAPES[endpoint].format(ref="OK"))
    assert CALLS[endpoint](client)
