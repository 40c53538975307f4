"""Domains an organisation owns: the inventory every check, report and send refers to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from todoke.db import Base, utcnow


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
