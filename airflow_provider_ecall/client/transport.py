"""HTTP transport: one keep-alive ``requests`` session, POST form bodies, capped reads.

The only automatic retry is urllib3's *connect* retry: it fires only when no connection
could be made, so the request cannot have reached eCall. A read timeout, a dropped
connection or any answer is returned or raised once, never resent here.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.util.retry import Retry

from airflow_provider_ecall.client.defaults import Timeout
from airflow_provider_ecall.client.errors import (
    EcallConnectionError,
    EcallResponseError,
    EcallServerError,
    EcallTlsError,
    EcallValidationError,
)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and body (at most the cap)."""

    status: int
    body: bytes


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Accept ``https://`` URLs, and ``http://`` only for loopback hosts (the sandbox).

    Errors never echo the URL: a malformed one may carry credentials.

    :return: the URL without a trailing slash.
    """
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a malformed IPv6 host, or a port out of range
        port_ok = False
    if not port_ok or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise EcallValidationError("base_url", "must be an http(s) URL with a host (and port)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EcallValidationError("base_url", "must not carry credentials, a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise EcallValidationError(
            "base_url", "plain http is refused except for loopback hosts; use https"
        )
    return url.strip().rstrip("/")


def check_timeout(value: object) -> Timeout:
    """Check a timeout: seconds, or ``(connect, read)`` seconds, each above 0."""
    parts = value if isinstance(value, tuple) else (value,)
    if len(parts) in (1, 2) and all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and 0 < p < 86_400 for p in parts
    ):
        return value  # type: ignore[return-value]
    raise EcallValidationError("timeout", "must be seconds above 0, or (connect, read) seconds")


def _new_session(base_url: str, connect_retries: int, pool_size: int) -> requests.Session:
    """A session for one eCall host whose environment settings are read once, here.

    ``requests`` otherwise re-reads the environment (proxies, CA bundle, netrc) on every
    request, which is most of its own per-request cost in an Airflow worker. Proxies for the
    host come from the environment as ``requests`` would find them; credentials never come
    from netrc (they travel in the form).
    """
    retry = Retry(
        total=connect_retries,
        connect=connect_retries,
        read=0,
        redirect=0,
        status=0,
        other=0,
        allowed_methods=None,
        backoff_factor=0.2,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=pool_size)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.trust_env = False
    return session


def _environment_ca_bundle() -> str | None:
    """The CA bundle the environment names, as ``requests`` reads it (empty = unset)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


class Transport:
    """POSTs forms to ``base_url`` and returns capped answers, mapping network failures.

    :param base_url: e.g. ``https://url.ecall.ch``.
    :param session: a ``requests.Session`` to use (its adapters are kept as they are).
    :param timeout: seconds, or ``(connect, read)`` seconds.
    :param connect_retries: extra connection attempts when no connection could be made.
    :param max_body_bytes: answers longer than this are refused without reading them whole.
    :param verify: TLS verification: True, or a CA bundle path. Switching it off takes an
        explicit ``False``.
    :param pool_size: keep-alive connections kept for concurrent use.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None,
        timeout: Timeout,
        connect_retries: int,
        max_body_bytes: int,
        verify: bool | str,
        pool_size: int,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self._owns_session = session is None
        self._session = session or _new_session(self.base_url, connect_retries, pool_size)
        self.timeout = check_timeout(timeout)
        self.max_body_bytes = max_body_bytes
        # A session of our own no longer reads the environment per request, so the CA
        # bundle it names is applied here; verification stays on either way.
        self._verify = (
            (_environment_ca_bundle() or True) if verify is True and not session else verify
        )

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self._session.close()

    def post(self, path: str, form: Mapping[str, str]) -> Answer:
        """POST ``form`` to ``path`` and return the answer.

        :raises EcallConnectionError: no connection could be made (nothing was delivered).
        :raises EcallServerError: timeout or dropped connection after sending.
        :raises EcallResponseError: a body over the cap (a redirect is returned as an answer).
        """
        url = f"{self.base_url}/{path}"
        try:
            response = self._session.post(
                url,
                data=dict(form),
                timeout=self.timeout,
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.SSLError:
            raise EcallTlsError(f"TLS verification with {self.base_url} failed") from None
        except requests.exceptions.ConnectTimeout:
            raise EcallConnectionError(f"could not connect to {self.base_url} in time") from None
        except requests.exceptions.ReadTimeout:
            raise EcallServerError(
                f"{path}: no answer within the read timeout; the request may have reached eCall"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise _connection_error(path, self.base_url, exc) from None
        except requests.exceptions.RequestException as exc:
            raise EcallServerError(f"{path}: request failed ({type(exc).__name__})") from None
        with response:
            return Answer(response.status_code, self._read(path, response))

    def _read(self, path: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise EcallResponseError(
                f"{path}: answer of {declared} bytes exceeds the {self.max_body_bytes}-byte cap",
                http_status=response.status_code,
            )
        try:
            body: bytes = response.raw.read(self.max_body_bytes + 1, decode_content=True)
        except (requests.exceptions.RequestException, HTTPError, OSError, ValueError) as exc:
            raise EcallServerError(
                f"{path}: the answer broke off ({type(exc).__name__}); the request may have "
                "reached eCall",
                http_status=response.status_code,
            ) from None
        if len(body) > self.max_body_bytes:
            raise EcallResponseError(
                f"{path}: answer exceeds the {self.max_body_bytes}-byte cap",
                http_status=response.status_code,
            )
        return body


def _connection_error(path: str, base_url: str, exc: Exception) -> EcallServerError:
    """Tell "never connected" (safe, nothing delivered) from "dropped after sending"."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, NewConnectionError):
            return EcallConnectionError(f"could not connect to {base_url} (nothing was sent)")
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__context__
    return EcallServerError(
        f"{path}: the connection dropped before an answer; the request may have reached eCall"
    )
