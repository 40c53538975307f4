"""An SMTP server on 127.0.0.1 that keeps every message it accepts, for delivery tests.

It speaks real ESMTP (aiosmtpd): STARTTLS with a certificate from the test CA, SIZE limits, and
per-recipient replies so tests can provoke the 5xx and 4xx paths of the code under test.
"""

from __future__ import annotations

import asyncio
import email.policy
import ssl
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# aiosmtpd's own default; big enough that only tests that mean to hit the limit do.
DEFAULT_MAX_MESSAGE_SIZE = 33_554_432


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted transaction, as the sink saw it on the wire."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    tls: bool
    peer: tuple[str, int]
    helo: str | None
    mail_options: tuple[str, ...]

    def parsed(self) -> EmailMessage:
        message = BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(message, EmailMessage)
        return message


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self._sink = sink

    async def handle_RCPT(  # noqa: N802 - aiosmtpd looks hooks up by this name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._sink.recipient_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd looks hooks up by this name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        reply = self._sink.data_reply
        if reply is not None:
            return reply
        peer = session.peer
        self._sink.record(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content or b"",
                tls=session.ssl is not None,
                peer=(str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else ("", 0),
                helo=session.host_name,
                mail_options=tuple(envelope.mail_options),
            )
        )
        return "250 2.0.0 Message accepted"


class _EphemeralPortController(Controller):
    """aiosmtpd's Controller, bound to a port the kernel picks instead of a fixed 8025."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
        )
        # Read back before start() connects to the port to check the server answers.
        self.port = server.sockets[0].getsockname()[1]
        return server


class SMTPSink:
    """SMTP server recording every message; STARTTLS is offered when `tls_context` is given.

    `reject(recipient)` makes RCPT TO for that address fail; `data_reply` (e.g. "451 4.3.0 Try
    later") makes every DATA fail; `max_message_size` is advertised with SIZE and enforced.
    """

    def __init__(
        self,
        tls_context: ssl.SSLContext | None = None,
        *,
        require_starttls: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        server_hostname: str = "mx.example.test",
        host: str = "127.0.0.1",
    ) -> None:
        if require_starttls and tls_context is None:
            raise ValueError("require_starttls needs a tls_context to offer STARTTLS with")
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.max_message_size = max_message_size
        self.server_hostname = server_hostname
        self.host = host
        self.data_reply: str | None = None
        self._recipient_replies: dict[str, str] = {}
        self._messages: list[ReceivedMessage] = []
        self._arrived = threading.Condition()
        self._controller: _EphemeralPortController | None = None

    def reject(self, recipient: str, code: int = 550, text: str = "5.1.1 No such user") -> None:
        """Answer RCPT TO:<recipient> with `code` (4xx or 5xx) instead of accepting it."""
        if not 400 <= code <= 599:
            raise ValueError(f"a refusal needs a 4xx or 5xx code, got {code}")
        with self._arrived:
            self._recipient_replies[recipient.lower()] = f"{code} {text}"

    def recipient_reply(self, address: str) -> str | None:
        with self._arrived:
            return self._recipient_replies.get(address.lower())

    def record(self, message: ReceivedMessage) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the messages accepted so far, oldest first."""
        with self._arrived:
            return list(self._messages)

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until `count` messages arrived (for code that delivers from another thread)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s), got {len(self._messages)} in {timeout}s"
                    )
                self._arrived.wait(remaining)
            return list(self._messages)

    def clear(self) -> None:
        with self._arrived:
            self._messages.clear()

    def start(self) -> Self:
        if self._controller is not None:
            raise RuntimeError("SMTP sink already running")
        controller = _EphemeralPortController(
            _Handler(self),
            hostname=self.host,
            port=0,
            server_hostname=self.server_hostname,
            tls_context=self.tls_context,
            require_starttls=self.require_starttls,
            data_size_limit=self.max_message_size,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("SMTP sink is not running")
        return int(self._controller.port)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
