"""The client's defaults, in a module of their own so that configuration code (the hook's
connection reading) can use them without loading the HTTP stack."""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://url.ecall.ch"
#: ``(connect, read)`` seconds.
DEFAULT_TIMEOUT: Final = (5.0, 30.0)
#: Recipients per request; eCall's own maximum is not published (result code 11104).
DEFAULT_BATCH_SIZE: Final = 100
MAX_BODY_BYTES: Final = 256 * 1024
#: Seconds: one read timeout, or ``(connect, read)``.
Timeout = float | tuple[float, float]
