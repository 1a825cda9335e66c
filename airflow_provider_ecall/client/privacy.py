"""Masking of personal data and secrets: numbers show as ``+41******233``, passwords never."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

_KEEP_HEAD = 3
_KEEP_TAIL = 3


def mask_address(address: str) -> str:
    """Mask one recipient for logs.

    Numbers keep their first three and last three characters (``+41******233``); shorter
    numbers and address-book names keep only their first character.

    :param address: a phone number, e-mail address or address-book name.
    :return: the masked form, never the full value.
    """
    value = address.strip()
    if len(value) > _KEEP_HEAD + _KEEP_TAIL + 1 and value.lstrip("+").isdigit():
        hidden = len(value) - _KEEP_HEAD - _KEEP_TAIL
        return value[:_KEEP_HEAD] + "*" * hidden + value[-_KEEP_TAIL:]
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[:1] + "***" if value else ""


def mask_addresses(addresses: Iterable[str], *, limit: int = 5) -> str:
    """Mask several recipients for one log line, naming at most ``limit`` of them.

    :param addresses: the recipients.
    :param limit: how many to show before summarising the rest as ``(+N more)``.
    :return: e.g. ``"+41******233;+41******244 (+3 more)"``.
    """
    items = list(addresses)
    shown = ";".join(mask_address(item) for item in items[:limit])
    rest = len(items) - limit
    return f"{shown} (+{rest} more)" if rest > 0 else shown


class Secret:
    """Holds a password so that ``repr``, ``str``, ``vars`` and tracebacks never show it.

    :param value: the secret.
    """

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        self.__value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self.__value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class Form(Mapping[str, str]):
    """The form fields of one request: sent whole, shown by field name only.

    Numbers, texts and the password stay out of every rendering of the form, including a
    traceback that prints each frame's locals (rich's, structlog's, Airflow 3.0's
    ``dags test``). A :class:`Secret` value is revealed only when the form is read to send it.

    :param fields: the fields in order; a value may be a :class:`Secret`.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, str | Secret]) -> None:
        self._fields = dict(fields)

    def __getitem__(self, key: str) -> str:
        value = self._fields[key]
        return value.reveal() if isinstance(value, Secret) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Form({', '.join(self._fields)})"

    __str__ = __repr__
