"""A local HTTPS server answering each test's routes, with certificates from the test CA.

Code under test resolves names like mta-sts.good.test through the local DNS server to 127.0.0.1
and connects here with verification on, exactly as it would to a real host. Routes are keyed by
(Host, path) so one server serves every name of a test; `sni` presents a different certificate
for chosen names (a wrong name, an untrusted issuer) so certificate failures are real ones.
Each request is answered on its own thread, and the TLS handshake happens there too, so a slow
route or a client that rejects the certificate never holds up the others.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Route:
    body: bytes
    status: int = 200
    #: None sends no Content-Type header at all
    content_type: str | None = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()
    #: send the body with Transfer-Encoding: chunked instead of Content-Length
    chunked: bool = False
    #: send neither Content-Length nor chunks: the body ends when the connection closes
    close_delimited: bool = False
    #: seconds to wait before answering (timeouts)
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, rig: LocalHTTPSServer, context: ssl.SSLContext) -> None:
        self.rig = rig
        self.context = context
        super().__init__((rig.host, 0), _Handler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, address = self.socket.accept()
        wrapped = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        connection = self.request
        assert isinstance(connection, ssl.SSLSocket)
        connection.settimeout(10)
        try:
            connection.do_handshake()
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: that is what some tests want
        super().handle()

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
        path = urlsplit(self.path).path
        rig = self.server.rig
        rig.requests.append((host, self.path))
        route = rig.routes.get((host, path))
        if route is None:
            route = Route(b"not found", status=404)
        if route.delay:
            time.sleep(route.delay)
        self._send(route)

    def _send(self, route: Route) -> None:
        self.send_response(route.status)
        if route.content_type is not None:
            self.send_header("Content-Type", route.content_type)
        for name, value in route.headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif not route.close_delimited:
            self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        if route.chunked:
            for start in range(0, len(route.body), 7):
                piece = route.body[start : start + 7]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(route.body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class LocalHTTPSServer:
    """HTTPS on 127.0.0.1 and a free port; add routes with `serve(url, Route(...))`."""

    def __init__(
        self,
        context: ssl.SSLContext,
        *,
        sni: Mapping[str, ssl.SSLContext] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        overrides = {name.lower(): ctx for name, ctx in (sni or {}).items()}
        if overrides:
            context.sni_callback = _switch_certificate(overrides)
        self._server = _Server(self, context)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def serve(self, url: str, route: Route) -> None:
        parts = urlsplit(url)
        self.routes[((parts.hostname or "").lower(), parts.path or "/")] = route

    def start(self) -> Self:
        # A short poll interval: shutdown() waits for the next poll, and tests stop servers often.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


SniCallback = Callable[[ssl.SSLObject, str | None, ssl.SSLContext], None]


def _switch_certificate(overrides: Mapping[str, ssl.SSLContext]) -> SniCallback:
    def callback(connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        chosen = overrides.get((server_name or "").lower())
        if chosen is not None:
            connection.context = chosen

    return callback
