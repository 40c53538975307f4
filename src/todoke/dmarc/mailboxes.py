"""Report mailboxes: configure the IMAP mailboxes the worker polls, and poll them.

Polling reads unseen messages, stores the reports in them through the common intake, and only
then marks each message \\Seen (or moves it to the processed folder), so a crash mid-poll reads
the message again next time and de-duplication keeps the result the same.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit import record_audit
from todoke.authz import Actor, SystemActor, require
from todoke.core.errors import InvalidInput, NotFound
from todoke.core.secrets import SecretBox
from todoke.dmarc.intake import BatchIngestor, Blob, IngestSummary
from todoke.dmarc.models import DmarcMailbox
from todoke.dmarc.parsing import ParseLimits
from todoke.i18n import N_

Security = Literal["ssl", "starttls", "none"]
PASSWORD_PURPOSE = "dmarc.mailbox.password"  # noqa: S105 - a key-derivation label
POLLER_ACTOR = SystemActor("worker:dmarc.poll_mailboxes")
IMAP_TIMEOUT_SECONDS = 30
#: One poll reads at most this many messages; the rest wait for the next poll.
MAX_MESSAGES_PER_POLL = 500
_FOLDER = re.compile(r"^[\w .\-/]{1,200}$", re.UNICODE)


@dataclass(frozen=True)
class MailboxSettings:
    label: str
    host: str
    port: int
    security: Security
    username: str
    password: str
    folder: str = "INBOX"
    processed_folder: str | None = None


def _validate(settings: MailboxSettings) -> None:
    if settings.security not in ("ssl", "starttls", "none"):
        raise InvalidInput(N_("security must be ssl, starttls or none"))
    if not 1 <= settings.port <= 65535:
        raise InvalidInput(N_("port must be 1-65535, got %(port)s"), port=settings.port)
    if not settings.host or any(c in settings.host for c in " /\r\n"):
        raise InvalidInput(N_("%(host)r is not a host name or address"), host=settings.host)
    for folder in (settings.folder, settings.processed_folder):
        if folder is not None and not _FOLDER.match(folder):
            raise InvalidInput(
                N_("folder name %(folder)r has characters IMAP cannot take here"), folder=folder
            )
    if not settings.username or not settings.password:
        raise InvalidInput(N_("the mailbox needs a user name and a password"))


def add_mailbox(
    session: Session,
    *,
    org: Organisation,
    settings: MailboxSettings,
    secret_key: bytes,
    acting_user: Actor,
) -> DmarcMailbox:
    """Register a mailbox to poll; the password is stored encrypted, never logged."""
    require(acting_user, "dmarc.manage_mailboxes", org=org)
    _validate(settings)
    mailbox = DmarcMailbox(
        organisation_id=org.id,
        label=settings.label.strip()[:200] or settings.username,
        host=settings.host,
        port=settings.port,
        security=settings.security,
        username=settings.username,
        password_sealed=SecretBox(secret_key, PASSWORD_PURPOSE).seal(settings.password),
        folder=settings.folder,
        processed_folder=settings.processed_folder,
    )
    session.add(mailbox)
    record_audit(
        session,
        acting_user,
        "dmarc.mailbox.added",
        org=org,
        target=mailbox,
        details={"host": settings.host, "port": settings.port, "username": settings.username},
    )
    return mailbox


def remove_mailbox(
    session: Session, *, org: Organisation, mailbox_id: int, acting_user: Actor
) -> None:
    require(acting_user, "dmarc.manage_mailboxes", org=org)
    mailbox = session.get(DmarcMailbox, mailbox_id)
    if mailbox is None or mailbox.organisation_id != org.id:
        raise NotFound(N_("no mailbox %(id)s"), id=mailbox_id)
    record_audit(
        session,
        acting_user,
        "dmarc.mailbox.removed",
        org=org,
        target=mailbox,
        details={"host": mailbox.host, "username": mailbox.username},
    )
    session.delete(mailbox)


def list_mailboxes(
    session: Session, *, org: Organisation, acting_user: Actor
) -> list[DmarcMailbox]:
    require(acting_user, "dmarc.view", org=org)
    return list(
        session.scalars(
            select(DmarcMailbox)
            .where(DmarcMailbox.organisation_id == org.id)
            .order_by(DmarcMailbox.id)
        )
    )


def connect(mailbox: DmarcMailbox | MailboxSettings, password: str) -> imaplib.IMAP4:
    """Log in and select the folder; raises imaplib.IMAP4.error or OSError with the reason."""
    context = ssl.create_default_context()
    client: imaplib.IMAP4
    if mailbox.security == "ssl":
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=IMAP_TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=IMAP_TIMEOUT_SECONDS)
        if mailbox.security == "starttls":
            client.starttls(ssl_context=context)
    client.login(mailbox.username, password)
    status, _ = client.select(_quote(mailbox.folder))
    if status != "OK":
        client.logout()
        raise imaplib.IMAP4.error(f"folder {mailbox.folder!r} cannot be opened")
    return client


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_connection(settings: MailboxSettings) -> int:
    """Connect and count the unseen messages, for the settings page's "test" button."""
    _validate(settings)
    client = connect(settings, settings.password)
    try:
        status, data = client.uid("SEARCH", "UNSEEN")
        return len(data[0].split()) if status == "OK" and data and data[0] else 0
    finally:
        client.logout()


@dataclass
class PollResult:
    messages: int
    summary: IngestSummary
    error: str | None = None


def check_saved_mailbox(
    session: Session, *, org: Organisation, mailbox_id: int, secret_key: bytes, acting_user: Actor
) -> int:
    """Connect to a stored mailbox with its stored password and count the unseen messages;
    raises imaplib.IMAP4.error or OSError with the server's reason."""
    require(acting_user, "dmarc.manage_mailboxes", org=org)
    mailbox = session.get(DmarcMailbox, mailbox_id)
    if mailbox is None or mailbox.organisation_id != org.id:
        raise NotFound(N_("no mailbox %(id)s"), id=mailbox_id)
    settings = MailboxSettings(
        label=mailbox.label,
        host=mailbox.host,
        port=mailbox.port,
        security=cast(Security, mailbox.security),
        username=mailbox.username,
        password=SecretBox(secret_key, PASSWORD_PURPOSE).open(mailbox.password_sealed),
        folder=mailbox.folder,
        processed_folder=mailbox.processed_folder,
    )
    return check_connection(settings)


def check_new_mailbox(settings: MailboxSettings, *, org: Organisation, acting_user: Actor) -> int:
    """The settings form's test button: only those who may add a mailbox make Todoke connect
    to a host they name."""
    require(acting_user, "dmarc.manage_mailboxes", org=org)
    return check_connection(settings)


def _fetch(client: imaplib.IMAP4, uid: str) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return bytes(part[1])
    return None


def _mark_done(client: imaplib.IMAP4, uid: str, processed_folder: str | None) -> None:
    if processed_folder is None:
        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return
    status, _ = client.uid("COPY", uid, _quote(processed_folder))
    if status == "OK":
        client.uid("STORE", uid, "+FLAGS", "(\\Seen \\Deleted)")
    else:
        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def poll_mailbox(
    open_session: Callable[[], Session],
    mailbox_id: int,
    *,
    secret_key: bytes,
    limits: ParseLimits,
    now: Callable[[], datetime],
) -> PollResult:
    """Read unseen messages of one mailbox into reports, then mark them done."""
    with open_session() as session:
        mailbox = session.get(DmarcMailbox, mailbox_id)
        if mailbox is None:
            raise NotFound(N_("no mailbox %(id)s"), id=mailbox_id)
        password = SecretBox(secret_key, PASSWORD_PURPOSE).open(mailbox.password_sealed)
    ingestor = BatchIngestor(
        open_session,
        organisation_id=mailbox.organisation_id,
        acting_user=POLLER_ACTOR,
        channel="imap",
        limits=limits,
    )
    result = PollResult(messages=0, summary=ingestor.summary)
    try:
        client = connect(mailbox, password)
        try:
            status, data = client.uid("SEARCH", "UNSEEN")
            uids = (
                [uid.decode() for uid in data[0].split()[:MAX_MESSAGES_PER_POLL]]
                if status == "OK" and data[0]
                else []
            )
            for uid in uids:
                raw = _fetch(client, uid)
                if raw is None:
                    continue
                ingestor.add(Blob(f"imap:{mailbox.username}@{mailbox.host}/{uid}", raw))
                # Stored before flagged: a crash between the two re-reads, never loses.
                ingestor.flush()
                _mark_done(client, uid, mailbox.processed_folder)
                result.messages += 1
            if mailbox.processed_folder is not None and uids:
                client.expunge()
        finally:
            client.logout()
    except (imaplib.IMAP4.error, OSError) as error:
        result.error = f"{type(error).__name__}: {error}"
    _record_poll(open_session, mailbox_id, result, now())
    return result


def _record_poll(
    open_session: Callable[[], Session], mailbox_id: int, result: PollResult, at: datetime
) -> None:
    with open_session() as session, session.begin():
        mailbox = session.get(DmarcMailbox, mailbox_id)
        if mailbox is None:
            return
        mailbox.last_polled_at = at
        mailbox.last_result = {
            "messages": result.messages,
            "reports": dict(result.summary.reports),
            "duplicates": result.summary.duplicates,
            "errors": [f"{e.file}: {e.message}" for e in result.summary.errors[:20]],
            "error": result.error,
        }


def enabled_mailbox_ids(session: Session) -> list[int]:
    return list(session.scalars(select(DmarcMailbox.id).where(DmarcMailbox.enabled.is_(True))))
