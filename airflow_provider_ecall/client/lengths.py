"""How long a text is and how to make it fit: SMS measurement (GSM 03.38 versus UCS-2,
length units, pages) and the one truncation function of the package.

The SMS limits are the vendor's (eCall "Send methods" page): 1530 characters in GSM 7-bit or
1570 in UCS-2, split into at most 10 pages. Page sizes follow 3GPP TS 23.040 concatenation
(160/153 septets, 70/67 UCS-2 code units); they are reported for logs, while validation uses
the vendor's character limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

#: The encoding an SMS text is sent in: GSM 03.38 (7-bit) or UCS-2.
Encoding = Literal["GSM", "UCS2"]

#: GSM 03.38 default alphabet (3GPP TS 23.038, table 6.2.1), one septet each.
GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs two septets (escape + character).
GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

#: Vendor limits for a whole message, in length units of its encoding.
MAX_UNITS: Final[dict[Encoding, int]] = {"GSM": 1530, "UCS2": 1570}
_SINGLE_PAGE: Final[dict[Encoding, int]] = {"GSM": 160, "UCS2": 70}
_MULTI_PAGE: Final[dict[Encoding, int]] = {"GSM": 153, "UCS2": 67}
#: The one ellipsis: three full stops, which GSM 03.38 carries (a "…" would turn a GSM text
#: into UCS-2 and cost it more than half its length).
ELLIPSIS: Final = "..."


@dataclass(frozen=True)
class TextMeasure:
    """How an SMS text travels.

    :param encoding: ``"GSM"`` when every character is in GSM 03.38, else ``"UCS2"``.
    :param units: septets (GSM, extension characters count two) or UTF-16 code units (UCS-2).
    :param pages: concatenated SMS parts by 3GPP segmentation (at least 1).
    :param limit: the vendor's maximum ``units`` for this encoding.
    """

    encoding: Encoding
    units: int
    pages: int
    limit: int

    @property
    def fits(self) -> bool:
        """Whether the text is within the vendor's length limit."""
        return self.units <= self.limit


def is_gsm(text: str) -> bool:
    """Return whether ``text`` can travel in the GSM 03.38 alphabet (with extensions)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def _units(text: str, encoding: Encoding) -> int:
    if encoding == "GSM":
        return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2  # validation refuses lone ones


def _pages(units: int, encoding: Encoding) -> int:
    if units <= _SINGLE_PAGE[encoding]:
        return 1
    per_page = _MULTI_PAGE[encoding]
    return -(-units // per_page)


def measure(text: str) -> TextMeasure:
    """Measure an SMS text: encoding, length units, pages and the applicable limit.

    :param text: the message text.
    :return: its :class:`TextMeasure`.
    """
    encoding: Encoding = "GSM" if is_gsm(text) else "UCS2"
    units = _units(text, encoding)
    return TextMeasure(encoding, units, _pages(units, encoding), MAX_UNITS[encoding])


def truncate(text: str, max_chars: int | None = None) -> str:
    """Shorten ``text`` to what it may carry, ending it with :data:`ELLIPSIS` (trailing
    white space before it is dropped). Text that already fits is returned unchanged.

    :param text: any text.
    :param max_chars: the most characters (code points) allowed, at least 3; None fits the
        text into the SMS limit of its encoding instead, counted in that encoding's units
        (never splitting a UTF-16 surrogate pair or a GSM escape sequence).
    :return: a text within ``max_chars``, or whose :func:`measure` fits.
    """
    if max_chars is not None:
        if len(text) <= max_chars:
            return text
        return text[: max_chars - len(ELLIPSIS)].rstrip() + ELLIPSIS
    length = measure(text)
    if length.fits:
        return text
    budget = length.limit - _units(ELLIPSIS, length.encoding)
    used = 0
    end = 0
    for index, ch in enumerate(text):
        used += _units(ch, length.encoding)
        if used > budget:
            break
        end = index + 1
    return text[:end].rstrip() + ELLIPSIS
