"""/api/v1 routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from todoke.accounts.services import set_locale
from todoke.api.errors import ERRORS
from todoke.api.schemas import (
    AuditEventOut,
    AuditEventPage,
    AuditVerifyOut,
    BrokenLinkOut,
    LocaleIn,
    MeOut,
    OrganisationOut,
)
from todoke.audit.queries import list_events, verify_organisation_chain
from todoke.web.context import UserContext, check_csrf

router = APIRouter(prefix="/api/v1", dependencies=[Depends(check_csrf)], responses=ERRORS)


def _me(ctx: UserContext) -> MeOut:
    user = ctx.actor
    return MeOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role.name,
        permissions=sorted(user.role.permissions),
        locale=user.locale,
        organisation=OrganisationOut.model_validate(user.organisation),
    )


@router.get("/me", tags=["accounts"])
def me(ctx: UserContext) -> MeOut:
    """The signed-in user, their role and permissions."""
    return _me(ctx)


@router.put("/me/locale", tags=["accounts"])
def put_locale(body: LocaleIn, ctx: UserContext) -> MeOut:
    """Choose the language of pages and mail (null: follow the browser)."""
    with ctx.session.begin():
        set_locale(ctx.session, user=ctx.actor, locale=body.locale, acting_user=ctx.actor)
    return _me(ctx)


@router.get("/audit/events", tags=["audit"])
def audit_events(
    ctx: UserContext,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditEventPage:
    """The organisation's audit trail, newest first."""
    with ctx.reading() as session:
        found = list_events(
            session, org=ctx.org, acting_user=ctx.actor, page=page, per_page=per_page
        )
    return AuditEventPage(
        items=[AuditEventOut.model_validate(event) for event in found.items],
        page=found.page,
        per_page=found.per_page,
        total=found.total,
    )


@router.get("/audit/verify", tags=["audit"])
def audit_verify(ctx: UserContext) -> AuditVerifyOut:
    """Recompute the organisation's hash chain and report the first broken link."""
    with ctx.reading() as session:
        result = verify_organisation_chain(session, org=ctx.org, acting_user=ctx.actor)
    broken = result.broken
    return AuditVerifyOut(
        ok=result.ok,
        events_checked=result.events_checked,
        broken=BrokenLinkOut(**broken.__dict__) if broken else None,
    )
