"""GSM 03.38 / UCS-2 measurement, page counting and the one truncation function."""

from __future__ import annotations

import pytest

from airflow_provider_ecall.client.lengths import ELLIPSIS, MAX_UNITS, is_gsm, measure, truncate


@pytest.mark.parametrize(
    ("text", "encoding", "units", "pages"),
    [
        ("Hello", "GSM", 5, 1),
        ("a" * 160, "GSM", 160, 1),
        ("a" * 161, "GSM", 161, 2),
        ("a" * 306, "GSM", 306, 2),
        ("a" * 307, "GSM", 307, 3),
        ("€", "GSM", 2, 1),  # extension characters cost two septets
        ("[x]{y}", "GSM", 10, 1),
        ("Grüezi àéùìò ÄÖÑÜ", "GSM", 17, 1),
        ("Straße", "GSM", 6, 1),
        ("ç", "UCS2", 1, 1),  # lower-case c-cedilla is not in GSM 03.38 (only Ç is)
        ("Здравствуйте", "UCS2", 12, 1),
        ("b" * 70, "GSM", 70, 1),
        ("ж" * 70, "UCS2", 70, 1),
        ("ж" * 71, "UCS2", 71, 2),
        ("😀", "UCS2", 2, 1),  # a surrogate pair is two UTF-16 code units
    ],
)
def test_measure(text: str, encoding: str, units: int, pages: int) -> None:
    found = measure(text)
    assert (found.encoding, found.units, found.pages) == (encoding, units, pages)


def test_limits_are_the_vendors() -> None:
    assert measure("a" * 1530).fits
    assert not measure("a" * 1531).fits
    assert measure("a" * 1530).pages == 10
    assert measure("ж" * 1570).fits
    assert not measure("ж" * 1571).fits
    assert not measure("€" * 766).fits  # 1532 septets


def test_is_gsm() -> None:
    assert is_gsm("@£$¥ \n\r")
    assert not is_gsm("ç")
    assert not is_gsm("\t")


def test_truncate_keeps_fitting_text() -> None:
    assert truncate("short") == "short"


@pytest.mark.parametrize(
    "text",
    ["a" * 5000, "€" * 1000, "a" * 1527 + "€€€", "ж" * 5000, "😀" * 1000, "x😀" * 1000],
)
def test_truncate_fits_and_ends_with_ellipsis(text: str) -> None:
    short = truncate(text)
    found = measure(short)
    assert found.fits
    assert short.endswith(ELLIPSIS)
    assert text.startswith(short.removesuffix(ELLIPSIS))
    # no half surrogate pair survives
    short.encode("utf-8")


def test_truncate_uses_the_whole_budget() -> None:
    assert measure(truncate("a" * 2000)).units == MAX_UNITS["GSM"]
    assert measure(truncate("ж" * 2000)).units == MAX_UNITS["UCS2"]


def test_truncate_to_characters_ends_with_the_same_ellipsis() -> None:
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdefg", 6) == "abc..."
    assert truncate("ab   defg", 6) == "ab..."  # white space before the ellipsis is dropped
    assert truncate("ж" * 10, 5) == "жж..."
