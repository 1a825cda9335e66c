"""Fault injection: how the sandbox misbehaves on purpose for the next requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Endpoint keys a fault can target (``None`` targets every endpoint).
FAULT_ENDPOINTS: Final = frozenset(
    {"sms", "fax", "voice", "state", "cache", "cache_get", "cache_delete"}
)
_CACHE_ENDPOINTS: Final = frozenset({"cache_get", "cache_delete"})


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    :param endpoint: ``"sms"``, ``"fax"``, ``"voice"``, ``"state"``, ``"cache"`` or ``None``
        for any endpoint.
    :param status: the HTTP status to answer (default 200 when a body or code is given).
    :param result_code: answer a ``<Result>`` with this code (when no ``body`` is given).
    :param result_text: its text (default: the code's name).
    :param delay: seconds to wait before answering.
    :param drop: close the connection without any answer.
    :param body: a raw body to answer instead of the real one.
    :param content_type: the body's content type (default guessed from the body).
    :param accept: process (and record) the request normally first, then apply the fault.
    :param times: how many requests still get this fault.
    """

    endpoint: str | None = None
    status: int | None = None
    result_code: int | None = None
    result_text: str | None = None
    delay: float = 0.0
    drop: bool = False
    body: bytes | None = None
    content_type: str | None = None
    accept: bool = False
    times: int = 1

    def __post_init__(self) -> None:
        if self.endpoint is not None and self.endpoint not in FAULT_ENDPOINTS:
            wanted = ", ".join(sorted(FAULT_ENDPOINTS))
            raise ValueError(f"endpoint must be one of {wanted} or None, not {self.endpoint!r}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code (100-599)")

    def matches(self, endpoint: str) -> bool:
        """Whether a request to ``endpoint`` gets this fault.

        :param endpoint: the request's endpoint key (``"cache_get"`` matches ``"cache"``).
        """
        if endpoint == "unknown":
            return False
        if self.endpoint is None:
            return True
        if self.endpoint == "cache":
            return endpoint in _CACHE_ENDPOINTS
        return self.endpoint == endpoint

    @property
    def replaces_answer(self) -> bool:
        """Whether the fault answers instead of the real endpoint (not just a delay)."""
        return (
            self.drop
            or self.body is not None
            or self.status is not None
            or self.result_code is not None
        )

    @property
    def body_content_type(self) -> str:
        """The content type sent with a raw ``body``."""
        if self.content_type is not None:
            return self.content_type
        head = (self.body or b"")[:64].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            return "text/html; charset=utf-8"
        return "text/xml; charset=utf-8"
