"""Three independent measures of an SMS text agree: the client's (``client/text.py``), the
sandbox's own table (``sandbox/sms_length.py``) and the ``gsm0338`` codec from PyPI.

If the client miscounted, the sandbox would refuse what the client let through (or the other
way round) and the round-trip tests would catch it only if the two did not share code —
which is why the sandbox keeps a table of its own, and why both are held to a third party.
"""

from __future__ import annotations

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_ecall.client.lengths import measure, truncate
from airflow_provider_ecall.sandbox.sms_length import (
    DEFAULT_ALPHABET,
    EXTENSION,
    LIMITS,
    sms_length,
)
from tests.property.strategies import CHARS

#: Every character the codec maps, plus near neighbours that it does not (ç, ÿ, ж, emoji).
_GSM_CHARS = sorted({ch for ch in DEFAULT_ALPHABET if ch != "\x00"} | set(EXTENSION.values()))
MOSTLY_GSM = st.text(st.sampled_from([*_GSM_CHARS, "ç", "ÿ", "ж", "😀", "\t"]), max_size=300)
TEXTS = st.one_of(MOSTLY_GSM, st.text(CHARS, max_size=300))
#: Texts around the vendor limits: a repeated piece of 1 to 3 characters.
LONG_TEXTS = st.builds(
    lambda piece, times: piece * times,
    st.text(st.sampled_from([*_GSM_CHARS, "ж", "😀"]), min_size=1, max_size=3),
    st.integers(min_value=400, max_value=1700),
)


def codec_septets(text: str) -> int | None:
    """Septets by the ``gsm0338`` codec (one byte per septet, escapes included), or None
    when the text has a character outside GSM 03.38.

    The codec also encodes U+001B as the bare escape septet 0x1B; 23.038 makes 0x1B the
    escape to the extension table, not a character, so the client and the sandbox count
    it as UCS-2 (and the client refuses it as a control character anyway)."""
    if "\x1b" in text:
        return None
    try:
        return len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_client_sandbox_and_codec_measure_alike(text: str) -> None:
    client = measure(text)
    encoding, units = sms_length(text)
    assert (client.encoding, client.units, client.limit) == (encoding, units, LIMITS[encoding])
    septets = codec_septets(text)
    if septets is None:
        assert (encoding, units) == ("UCS2", len(text.encode("utf-16-le")) // 2)
    else:
        assert (encoding, units) == ("GSM", septets)


def sandbox_fits(text: str) -> bool:
    encoding, units = sms_length(text)
    return units <= LIMITS[encoding]


@settings(max_examples=150, deadline=None)
@given(LONG_TEXTS)
def test_the_limit_is_judged_alike_and_truncation_fits_both(text: str) -> None:
    assert measure(text).fits == sandbox_fits(text)
    short = truncate(text)
    assert sandbox_fits(short)
    assert measure(short).fits


@pytest.mark.parametrize("value", range(0x80))
def test_the_sandbox_table_is_the_codecs_default_alphabet(value: int) -> None:
    if value == 0x1B:  # the escape septet: no character of its own
        return
    assert bytes([value]).decode("gsm03.38") == DEFAULT_ALPHABET[value]


@pytest.mark.parametrize(("value", "char"), sorted(EXTENSION.items()))
def test_the_sandbox_extension_table_is_the_codecs(value: int, char: str) -> None:
    assert char.encode("gsm03.38") == bytes([0x1B, value])


def test_the_escape_septet_is_no_character() -> None:
    assert sms_length("\x1b") == ("UCS2", 1)
    assert measure("\x1b").encoding == "UCS2"
