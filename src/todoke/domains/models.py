"""Domains an organisation owns: the inventory every check, report and send refers to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from todoke.db import Base, JSONValue, utcnow


class Domain(Base):
    """A domain the organisation owns, whether or not it sends mail.

    Domains that never send still matter: they should publish `v=spf1 -all` and `p=reject` so
    nobody can send in their name.
    """

    __tablename__ = "domain"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Lower-case, no trailing dot, IDNs in their A-label (xn--) form.
    name: Mapped[str] = mapped_column(String(253))
    sends_mail: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DkimKey(Base):
    """A DKIM signing key of a domain; its private half is sealed with the secret key.

    Life: `generated` (shown as a TXT record to publish) -> `published` (Todoke found the TXT
    record and it carries this key) -> `active` (signs) -> `retired` (another key signs; this
    one stays published so mail already sent still verifies) -> `revoked` (publish `p=`).
    """

    __tablename__ = "dkim_key"
    __table_args__ = (UniqueConstraint("domain_id", "selector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    selector: Mapped[str] = mapped_column(String(63))
    #: "rsa" or "ed25519" (the k= tag)
    key_type: Mapped[str] = mapped_column(String(16))
    bits: Mapped[int]
    #: base64 of the public key as published in p= (SubjectPublicKeyInfo for RSA, raw for
    #: ed25519 per RFC 8463)
    public_key: Mapped[str] = mapped_column(Text)
    #: PKCS#8 PEM sealed by SecretBox; never logged, never sent to a page
    private_key_sealed: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="generated")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class DomainCheckRun(Base):
    """One check of a registered domain, kept so a change for the worse is visible."""

    __tablename__ = "domain_check_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the worst status among the findings
    status: Mapped[str] = mapped_column(String(8))
    #: [{"id", "status", "values", "evidence"}]: what `describe` needs to say it in ja or en
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue)
    #: finding ids that are worse than in the previous run
    worse: Mapped[list[str]] = mapped_column(JSONValue)
    #: how long the check took
    duration_ms: Mapped[int]
    #: who or what ran it: "schedule" or "user"
    trigger: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_domain_check_run_domain_time", "domain_id", "checked_at"),)


class TestMailResult(Base):
    """A test mail a user sent to their own address at Todoke's receiver, as authenticated."""

    __tablename__ = "test_mail_result"
    __test__ = False  # not a pytest test class, whatever its name

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the verdict as the API shows it (MessageVerdictOut), in English
    verdict: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    #: whether the sender used STARTTLS; None when the receiver offers no TLS
    with_tls: Mapped[bool | None]
