"""Each user's test-mail address at Todoke's receiver, and what arrived there.

`test+u<id>-<mac>@<receiver domain>`: the MAC (HMAC-SHA256 of the user id under the
installation's secret key, 10 hex digits) makes addresses unguessable, so nobody can fill
another user's results; no table of addresses is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Final

import dns.asyncresolver
from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import User
from todoke.audit import record_audit
from todoke.authz import SystemActor
from todoke.core.errors import InvalidInput
from todoke.dmarc.receiver import SessionEnvelope
from todoke.domains.message_check import Envelope, check_message
from todoke.domains.message_schemas import MessageVerdictOut, verdict_out
from todoke.domains.models import TestMailResult

LOCAL_PART: Final = "test"
INBOX_ACTOR: Final = SystemActor("receiver:test-mail")
RESULTS_KEPT_SHOWN: Final = 10
_ADDRESS: Final = re.compile(r"^test\+u(?P<user>[0-9]{1,12})-(?P<mac>[0-9a-f]{10})$")


def _mac(secret_key: bytes, user_id: int) -> str:
    return hmac.new(secret_key, f"test-mail:{user_id}".encode(), hashlib.sha256).hexdigest()[:10]


def inbox_address(user_id: int, *, secret_key: bytes, receiver_domain: str) -> str:
    return f"{LOCAL_PART}+u{user_id}-{_mac(secret_key, user_id)}@{receiver_domain}"


def user_for(address: str, *, secret_key: bytes, receiver_domain: str) -> int | None:
    """The user a test address belongs to, or None for anything else."""
    local, _, domain = address.strip().rpartition("@")
    if domain.lower() != receiver_domain.lower():
        return None
    found = _ADDRESS.match(local.lower())
    if found is None:
        return None
    user_id = int(found["user"])
    if not hmac.compare_digest(found["mac"], _mac(secret_key, user_id)):
        return None
    return user_id


def store_result(
    session: Session, *, user_id: int, verdict: MessageVerdictOut, with_tls: bool | None
) -> TestMailResult | None:
    """Keep a received test mail's verdict for its user; None when the user is gone."""
    user = session.get(User, user_id)
    if user is None:
        return None
    result = TestMailResult(
        organisation_id=user.organisation_id,
        user_id=user.id,
        verdict=verdict.model_dump(mode="json"),
        with_tls=with_tls,
    )
    session.add(result)
    session.flush()
    record_audit(
        session,
        INBOX_ACTOR,
        "domains.test_mail.received",
        org=user.organisation,
        target=result,
        details={"header_from": verdict.header_from, "dmarc": verdict.dmarc},
    )
    return result


def latest_results(session: Session, *, user: User) -> list[TestMailResult]:
    """The user's own test mails, newest first (nobody sees another user's)."""
    return list(
        session.scalars(
            select(TestMailResult)
            .where(TestMailResult.user_id == user.id)
            .order_by(TestMailResult.received_at.desc(), TestMailResult.id.desc())
            .limit(RESULTS_KEPT_SHOWN)
        )
    )


class TestMailbox:
    """The receiver's `test+...@` mailbox: authenticate what arrives, keep it for its user."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(
        self,
        open_session: Callable[[], Session],
        *,
        secret_key: bytes,
        receiver_domain: str,
        resolver: Callable[[], dns.asyncresolver.Resolver],
        tls_offered: bool,
    ) -> None:
        self._open_session = open_session
        self._secret_key = secret_key
        self._domain = receiver_domain
        self._resolver = resolver
        self._tls_offered = tls_offered

    def accepts(self, address: str) -> bool:
        return self._user(address) is not None

    def _user(self, address: str) -> int | None:
        return user_for(address, secret_key=self._secret_key, receiver_domain=self._domain)

    async def deliver(
        self, address: str, peer: SessionEnvelope, data: bytes, *, with_tls: bool
    ) -> str:
        """Check the message as received (the SMTP session's client, HELO and MAIL FROM)."""
        user_id = self._user(address)
        if user_id is None:
            return "550 5.1.1 No such mailbox here"
        envelope = Envelope(client_ip=peer.client_ip, helo=peer.helo, mail_from=peer.mail_from)
        try:
            verdict = await check_message(data, resolver=self._resolver(), envelope=envelope)
        except InvalidInput as error:
            return f"554 5.6.0 Cannot check this message: {error.message[:200]}"
        out = verdict_out(verdict, "en")
        tls = with_tls if self._tls_offered else None
        stored = await asyncio.to_thread(self._store, user_id, out, tls)
        return "250 2.0.0 Test mail checked" if stored else "550 5.1.1 No such mailbox here"

    def _store(self, user_id: int, verdict: MessageVerdictOut, with_tls: bool | None) -> bool:
        with self._open_session() as session, session.begin():
            return (
                store_result(session, user_id=user_id, verdict=verdict, with_tls=with_tls)
                is not None
            )
