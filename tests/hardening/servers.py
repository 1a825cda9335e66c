"""Tiny loopback servers the hardening tests need beyond the sandbox.

- :class:`Canary`: an HTTP server that only counts hits (an XML body must never make the
  client fetch a DTD or entity from it).
- :class:`FloodServer`: a raw socket server answering every request with a huge body, with
  a declared ``Content-Length``, chunked, or until the connection closes; it counts the
  bytes it managed to write.
- :class:`TlsServer`: an HTTPS server with a fresh self-signed certificate for 127.0.0.1.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, TypeVar

OK_BODY: Final = (
    b'<Result xmlns="http://schemas.datacontract.org/2004/07/eCallHttp.Models">'
    b"<ResultCode>0</ResultCode><ResultText>OK</ResultText></Result>"
)
Framing = Literal["length", "chunked", "close"]
_Server = TypeVar("_Server", bound="_Background")


class _Background:
    """Start in a daemon thread on entry, stop on exit."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Server) -> _Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


class _HttpServer(_Background):
    """A stdlib HTTP server (``self._server``) serving in a daemon thread."""

    _server: http.server.ThreadingHTTPServer

    def start(self) -> None:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Canary(_HttpServer):
    """Counts every request it gets; :attr:`url` is its root."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        handler = type("Handler", (_CountingHandler,), {"hits": self.hits})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"


def _read_request(conn: socket.socket) -> None:
    """Read one request's head and form body (by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


class FloodServer(_Background):
    """Answers with ``size`` bytes of ``<Result>`` padding, framed as asked.

    :param size: the body size it tries to send.
    :param framing: ``"length"`` (declared Content-Length), ``"chunked"``, or ``"close"``
        (no length; the body ends when the connection closes).
    """

    def __init__(self, size: int, framing: Framing) -> None:
        self.size = size
        self.framing = framing
        self.written = 0
        self.finished = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> None:
        threading.Thread(target=self._serve, daemon=True).start()

    def stop(self) -> None:
        self._listener.close()
        self.finished.wait(10)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            self.finished.set()
            return
        with conn:
            try:
                _read_request(conn)
                self._flood(conn)
            except OSError:
                pass  # the client hung up: what the test wants
            finally:
                self.finished.set()

    def _flood(self, conn: socket.socket) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
        if self.framing == "length":
            head += f"Content-Length: {self.size}\r\n"
        elif self.framing == "chunked":
            head += "Transfer-Encoding: chunked\r\n"
        else:
            head += "Connection: close\r\n"
        conn.sendall((head + "\r\n").encode())
        piece = b"<Result><ResultText>" + b"x" * (64 * 1024 - 20)
        while self.written < self.size:
            data = piece
            if self.framing == "chunked":
                data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            conn.sendall(data)
            self.written += len(piece)
        if self.framing == "chunked":
            conn.sendall(b"0\r\n\r\n")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1/localhost and its key.

    :return: ``(cert_path, key_path)``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecall-test.local")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _OkHandler(_CountingHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(OK_BODY)))
        self.end_headers()
        self.wfile.write(OK_BODY)


class TlsServer(_HttpServer):
    """An HTTPS server answering every POST with a ``<Result>`` code 0.

    :param directory: where its certificate and key are written.
    """

    def __init__(self, directory: Path) -> None:
        self.cert, key = self_signed(directory)
        self.hits: list[str] = []
        handler = type("Handler", (_OkHandler,), {"hits": self.hits})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
