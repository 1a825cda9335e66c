"""The HTTP side of the sandbox: a keep-alive HTTP/1.1 server, request parsing and faults."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, cast
from urllib.parse import urlsplit

from airflow_provider_ecall.client.errors import RESULT_NAMES
from airflow_provider_ecall.sandbox.endpoints import Reply, SandboxApp, endpoint_key, result_reply
from airflow_provider_ecall.sandbox.faults import Fault
from airflow_provider_ecall.sandbox.params import parse_form, without
from airflow_provider_ecall.sandbox.state import SandboxRequest

#: The largest request body the sandbox reads (larger ones get 413).
MAX_BODY: Final = 1 << 20
#: Bodies up to this size are read and discarded before a 413, so the client sees the answer.
_MAX_DRAIN: Final = 64 << 20
_PLAIN: Final = "text/plain; charset=utf-8"


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its :class:`SandboxApp` and open connections.

    :param address: ``(host, port)`` to bind.
    :param app: the simulated service.
    """

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        super().__init__(address, SandboxHandler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Remember (or forget) an open client connection.

        :param connection: the client socket.
        :param open_: ``True`` when it opens, ``False`` when it closes.
        """
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client hangs up (timeouts, refused oversize answers); report
        anything else as the standard library does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection (used when the sandbox stops)."""
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def fault_reply(fault: Fault) -> Reply:
    """Build the answer a fault sends instead of the real one.

    :param fault: a fault whose :attr:`~Fault.replaces_answer` is true (and not ``drop``).
    :return: the raw body, a ``<Result>`` with the fault's code, or an empty body.
    """
    status = fault.status if fault.status is not None else 200
    if fault.body is not None:
        return Reply(status, fault.body, fault.body_content_type, result_code=None)
    if fault.result_code is not None:
        text = fault.result_text or RESULT_NAMES.get(fault.result_code, "Error")
        return result_reply(status, fault.result_code, text)
    return Reply(status, b"", fault.content_type or _PLAIN, result_code=None)


class SandboxHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests (keep-alive) for a :class:`SandboxHTTPServer`."""

    protocol_version = "HTTP/1.1"
    server_version = "eCallSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def version_string(self) -> str:
        """The ``Server`` header value."""
        return self.server_version

    @property
    def sandbox_server(self) -> SandboxHTTPServer:
        """The server this handler belongs to."""
        return cast(SandboxHTTPServer, self.server)

    def setup(self) -> None:
        """Prepare the connection and register it for a clean stop."""
        super().setup()
        self.sandbox_server.track(self.connection, True)

    def finish(self) -> None:
        """Finish the connection and forget it."""
        try:
            super().finish()
        finally:
            self.sandbox_server.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: request lines could carry credentials in a query string."""

    def do_GET(self) -> None:
        """Answer a GET request."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Answer a POST request."""
        self._handle("POST")

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        endpoint = endpoint_key(split.path)
        body = self._read_body(endpoint, method)
        if body is None:
            return
        params = parse_form(split.query)
        if body:
            params.update(parse_form(body.decode("utf-8", errors="replace")))
        if endpoint == "unknown":
            self._answer(endpoint, method, params, Reply(404, b"Not Found", _PLAIN))
            return
        fault = self.sandbox_server.app.state.take_fault(endpoint)
        self._respond(endpoint, method, params, fault)

    def _respond(
        self, endpoint: str, method: str, params: dict[str, str], fault: Fault | None
    ) -> None:
        app = self.sandbox_server.app
        if fault is None:
            self._answer(endpoint, method, params, app.dispatch(endpoint, method, params))
            return
        reply: Reply | None = None
        if fault.accept or not fault.replaces_answer:
            reply = app.dispatch(endpoint, method, params)
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            self._log(endpoint, method, params, None, None)
            self.close_connection = True
            return
        if fault.replaces_answer:
            reply = fault_reply(fault)
        assert reply is not None
        self._answer(endpoint, method, params, reply)

    def _read_body(self, endpoint: str, method: str) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._answer(endpoint, method, {}, Reply(411, b"Length Required", _PLAIN))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._answer(endpoint, method, {}, Reply(400, b"Bad Content-Length", _PLAIN))
            return None
        if length > MAX_BODY:
            self._discard(length)
            self.close_connection = True
            self._answer(endpoint, method, {}, Reply(413, b"Request Entity Too Large", _PLAIN))
            return None
        return self.rfile.read(length) if length else b""

    def _discard(self, length: int) -> None:
        left = length if length <= _MAX_DRAIN else 0
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                return
            left -= len(chunk)

    def _log(
        self,
        endpoint: str,
        method: str,
        params: dict[str, str],
        status: int | None,
        result_code: int | None,
    ) -> None:
        request = SandboxRequest(
            endpoint, method, without(params, ("Password",)), status, result_code
        )
        self.sandbox_server.app.state.log_request(request)

    def _answer(self, endpoint: str, method: str, params: dict[str, str], reply: Reply) -> None:
        self._log(endpoint, method, params, reply.status, reply.result_code)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)
