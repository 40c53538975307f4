"""Read models of the audit trail, permission-checked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit.chain import chain_name
from todoke.audit.models import AuditEvent
from todoke.audit.services import ChainVerification, verify_chains
from todoke.authz import Actor, require

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class EventPage:
    items: list[AuditEvent]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_events(
    session: Session, *, org: Organisation, acting_user: Actor, page: int = 1, per_page: int = 50
) -> EventPage:
    """The organisation's events, newest first."""
    require(acting_user, "audit.view", org=org)
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    page = max(1, page)
    total = (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.organisation_id == org.id)
        )
        or 0
    )
    items = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.organisation_id == org.id)
        .order_by(AuditEvent.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return EventPage(items=list(items), page=page, per_page=per_page, total=int(total))


def verify_organisation_chain(
    session: Session, *, org: Organisation, acting_user: Actor
) -> ChainVerification:
    require(acting_user, "audit.verify", org=org)
    return verify_chains(session, chain=chain_name(org.id))
