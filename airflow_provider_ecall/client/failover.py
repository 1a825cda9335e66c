"""A second way in: a transport that tries a fallback base URL when the first is unreachable.

The fallback is used only when the request cannot have reached the first host: the
connection was refused, the name did not resolve, or connecting timed out
(:class:`~airflow_provider_ecall.client.errors.EcallConnectionError`). A read timeout, a
dropped connection, a TLS failure or any answer is final: sending the same request to the
second host then could deliver it twice.

Once the fallback answered, it is tried first for the rest of the client's life (an alert's
status check and resend then do not wait for the dead host again); the first host is still
tried when the fallback cannot be reached either.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from airflow_provider_ecall.client.errors import EcallConnectionError, EcallValidationError
from airflow_provider_ecall.client.transport import Answer, Transport, check_base_url

log = logging.getLogger(__name__)


def check_fallback_url(url: str) -> str:
    """Check a fallback base URL by the rules of the first one (``https://``, or
    ``http://`` for loopback only), naming the field ``fallback_url`` in the error."""
    try:
        return check_base_url(url)
    except EcallValidationError as exc:
        raise EcallValidationError("fallback_url", exc.rule) from None


class FailoverTransport:
    """Two transports, one preferred: the other is tried only when no connection was made.

    :param primary: the transport of the connection's base URL.
    :param fallback: the transport of the fallback base URL.
    """

    def __init__(self, primary: Transport, fallback: Transport) -> None:
        self._order = [primary, fallback]

    @property
    def base_url(self) -> str:
        """The base URL tried first now (the primary until it could not be reached)."""
        return self._order[0].base_url

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Both base URLs, the one tried first now first."""
        return tuple(transport.base_url for transport in self._order)

    def close(self) -> None:
        """Close both transports' own sessions."""
        for transport in self._order:
            transport.close()

    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        """POST to the preferred host; to the other one only if no connection could be made.

        :raises EcallConnectionError: neither host could be reached (nothing was delivered).
        :raises EcallError: anything else from the host that was reached, unchanged.
        """
        first, second = self._order
        try:
            return first.post(path, form)
        except EcallConnectionError:
            log.warning(
                "eCall %s: could not connect to %s (nothing was sent); trying %s",
                path,
                first.base_url,
                second.base_url,
            )
        try:
            answer = second.post(path, form)
        except EcallConnectionError:
            raise EcallConnectionError(
                f"could not connect to {first.base_url} nor to the fallback {second.base_url} "
                "(nothing was sent)"
            ) from None
        self._order = [second, first]
        return answer
