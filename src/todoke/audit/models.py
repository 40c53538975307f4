"""The tamper-evident audit trail.

Every row is written by a service in the same transaction as the change it records. Rows of one
chain (one organisation, or the installation for events without one) are linked by
`hash = SHA-256(prev_hash || canonical event)`; `AuditChainHead` holds each chain's tip and is
locked while an event is appended so concurrent writers cannot fork the chain. The database
refuses UPDATE and DELETE on `audit_event` (triggers, see the migration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from todoke.db import Base, JSONValue


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_event_chain_seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), index=True, default=None
    )
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    #: Who acted, as text that survives the user's renaming ("system" for jobs).
    actor_label: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(60), default=None)
    target_id: Mapped[str | None] = mapped_column(String(100), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Context with personal data already masked (see `audit.masking`).
    details: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    __tablename__ = "audit_chain_head"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
