"""The built-in report receiver: an SMTP server so `rua=mailto:dmarc@<todoke host>` just works.

Reporters deliver aggregate, failure and TLS reports by mail. The receiver accepts mail only for
its report addresses (`dmarc@DOMAIN`, or `dmarc+ORG@DOMAIN` to pick an organisation; `tlsrpt@`
is the same mailbox), refuses oversized messages at the protocol level, and stores what it finds
through the same intake as every other channel. A message with no readable report is refused
with the reason, so the reporting system's postmaster learns of it rather than nobody.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import SystemActor
from todoke.dmarc.intake import BatchIngestor, Blob, IngestSummary
from todoke.dmarc.parsing import ParseLimits

log = logging.getLogger(__name__)

RECEIVER_ACTOR = SystemActor("receiver:smtp")
LOCAL_PARTS = ("dmarc", "tlsrpt")


@dataclass(frozen=True)
class SessionEnvelope:
    """What the SMTP session saw of the sender: client address, HELO name, MAIL FROM."""

    client_ip: str
    helo: str
    mail_from: str


class ExtraMailbox(Protocol):
    """Another mailbox the receiver serves beside the report addresses (e.g. test mail)."""

    def accepts(self, address: str) -> bool: ...

    async def deliver(
        self, address: str, peer: SessionEnvelope, data: bytes, *, with_tls: bool
    ) -> str: ...


@dataclass(frozen=True)
class ReceiverConfig:
    domain: str
    max_message_bytes: int
    limits: ParseLimits
    extra_mailboxes: tuple[ExtraMailbox, ...] = field(default_factory=tuple)


class ReportHandler:
    """aiosmtpd handler: checks recipients, hands the message to intake off the event loop."""

    def __init__(self, open_session: Callable[[], Session], config: ReceiverConfig) -> None:
        self._open_session = open_session
        self._config = config

    def organisation_for(self, address: str) -> int | None:
        """`dmarc@domain` -> the first organisation; `dmarc+slug@domain` -> that one."""
        local, _, domain = address.rpartition("@")
        if domain.lower() != self._config.domain.lower():
            return None
        base, _, slug = local.lower().partition("+")
        if base not in LOCAL_PARTS:
            return None
        with self._open_session() as session:
            query = select(Organisation.id).order_by(Organisation.id).limit(1)
            if slug:
                query = select(Organisation.id).where(Organisation.slug == slug)
            return session.scalar(query)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,  # noqa: ARG002
        session: SMTPSession,  # noqa: ARG002
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        extra = await asyncio.to_thread(self._extra_for, address)
        if extra is not None or (envelope.rcpt_tos and self._extra_for(envelope.rcpt_tos[0])):
            if envelope.rcpt_tos:
                return "452 4.5.3 One recipient per test mail; send again for this one"
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        organisation_id = await asyncio.to_thread(self.organisation_for, address)
        if organisation_id is None:
            return "550 5.1.1 No such report mailbox here"
        if envelope.rcpt_tos:
            first = await asyncio.to_thread(self.organisation_for, envelope.rcpt_tos[0])
            if first != organisation_id:
                return "452 4.5.3 One organisation per message; send again for this recipient"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,  # noqa: ARG002
        session: SMTPSession,
        envelope: Envelope,
    ) -> str:
        data = envelope.original_content or b""
        if len(data) > self._config.max_message_bytes:
            return "552 5.3.4 Message too big for the report receiver"
        extra = self._extra_for(envelope.rcpt_tos[0])
        if extra is not None:
            peer = SessionEnvelope(
                client_ip=str(session.peer[0]) if session.peer else "",
                helo=session.host_name or "",
                mail_from=envelope.mail_from or "",
            )
            return await extra.deliver(
                envelope.rcpt_tos[0], peer, data, with_tls=session.ssl is not None
            )
        organisation_id = await asyncio.to_thread(self.organisation_for, envelope.rcpt_tos[0])
        if organisation_id is None:  # the organisation was removed during the transaction
            return "451 4.3.0 Report mailbox unavailable, try again later"
        name = f"smtp:{envelope.mail_from or '<>'}"
        summary = await asyncio.to_thread(self._ingest, organisation_id, Blob(name, data))
        stored = sum(summary.reports.values()) + summary.duplicates
        if stored == 0 and summary.errors:
            reason = " ".join(summary.errors[0].message.split())[:300]
            return f"554 5.6.0 No report could be read: {reason}"
        log.info(
            "report mail from %s: %s stored, %s duplicates",
            envelope.mail_from,
            dict(summary.reports),
            summary.duplicates,
        )
        return "250 2.0.0 Report received"

    def _extra_for(self, address: str) -> ExtraMailbox | None:
        return next((box for box in self._config.extra_mailboxes if box.accepts(address)), None)

    def _ingest(self, organisation_id: int, blob: Blob) -> IngestSummary:
        ingestor = BatchIngestor(
            self._open_session,
            organisation_id=organisation_id,
            acting_user=RECEIVER_ACTOR,
            channel="smtp",
            limits=self._config.limits,
        )
        return ingestor.add_all([blob])


def make_controller(
    open_session: Callable[[], Session], config: ReceiverConfig, *, host: str, port: int
) -> Controller:
    """A started-on-demand aiosmtpd server; call `.start()` and `.stop()`."""
    handler = ReportHandler(open_session, config)
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=config.max_message_bytes,
        enable_SMTPUTF8=True,
        ident="Todoke report receiver",
    )
