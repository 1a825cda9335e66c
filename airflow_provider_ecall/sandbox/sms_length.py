"""How long an SMS text is, as the sandbox plays eCall — measured without the client's code.

The client decides locally whether a text fits; the sandbox must decide on its own, or no
test against it could catch a counting bug in the client. So this module keeps its own copy
of the GSM 7-bit default alphabet, written as 3GPP TS 23.038 section 6.2.1 lays it out: the
character at each septet value 0x00-0x7F, and the extension table reached through the escape
septet 0x1B, each entry costing two septets. Text with any other character travels as UCS-2
and is counted in UTF-16 code units. The limits are the vendor's (eCall "Send methods"
page): 1530 GSM septets or 1570 UCS-2 units.
"""

from __future__ import annotations

from typing import Final

#: The escape septet (0x1B) is no character of its own: this marks its place in the table.
_ESCAPE: Final = "\x00"

#: The default alphabet by septet value, 16 a row (rows 0x00, 0x10, …, 0x70).
DEFAULT_ALPHABET: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    f"Δ_ΦΓΛΩΠΨΣΘΞ{_ESCAPE}ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: septet after the escape -> character.
EXTENSION: Final[dict[int, str]] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
#: Septets each character costs in the GSM 7-bit encoding.
SEPTETS: Final[dict[str, int]] = {
    **{ch: 1 for value, ch in enumerate(DEFAULT_ALPHABET) if value != 0x1B},
    **dict.fromkeys(EXTENSION.values(), 2),
}
#: The vendor's limits per encoding.
LIMITS: Final[dict[str, int]] = {"GSM": 1530, "UCS2": 1570}


def sms_length(text: str) -> tuple[str, int]:
    """Measure ``text`` as eCall would: ``("GSM", septets)`` when every character has a
    septet, else ``("UCS2", UTF-16 code units)``. It fits when the count is at most
    ``LIMITS[encoding]``.

    :param text: the message text as received.
    """
    septets = 0
    for ch in text:
        cost = SEPTETS.get(ch)
        if cost is None:
            return "UCS2", len(text.encode("utf-16-le", "surrogatepass")) // 2
        septets += cost
    return "GSM", septets
