"""/api/v1/domains: check a domain's published records and plan the records to publish."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from pydantic import BaseModel, Field

from todoke.api.errors import ERRORS
from todoke.domains import dkim_keys, inspection, inventory, overview, services
from todoke.domains.checks.schemas import DomainCheckIn, DomainCheckOut, check_out
from todoke.domains.message_check import MAX_MESSAGE_BYTES
from todoke.domains.message_schemas import MessageVerdictOut, verdict_out
from todoke.domains.record_schemas import RecordPlanOut, plan_out
from todoke.domains.schemas import (
    ChecklistItemOut,
    CheckRunOut,
    DkimKeyOut,
    checklist_item_out,
    key_out,
    run_out,
)
from todoke.web.context import UserContext, check_csrf

router = APIRouter(
    prefix="/api/v1/domains", tags=["domains"], dependencies=[Depends(check_csrf)], responses=ERRORS
)

HttpsUrl = Annotated[str | None, Query(max_length=2048, pattern=r"^https://\S+$")]


@router.post("/check")
async def check(body: DomainCheckIn, ctx: UserContext) -> DomainCheckOut:
    """Check SPF, DKIM, DMARC, BIMI, MTA-STS, TLS-RPT and MX; findings in the user's language."""
    result = await inspection.inspect_domain(
        org=ctx.org,
        acting_user=ctx.actor,
        domain=body.domain,
        selectors=body.selectors,
        settings=ctx.runtime.settings,
        resolver=ctx.runtime.resolver(),
    )
    return check_out(result, ctx.locale)


@router.get("/{domain}/records")
async def records(
    domain: str,
    ctx: UserContext,
    never_sends: bool = False,
    bimi_logo: HttpsUrl = None,
    bimi_certificate: HttpsUrl = None,
) -> RecordPlanOut:
    """The records to publish, merged with what the domain publishes now."""
    plan = await inspection.records_for(
        org=ctx.org,
        acting_user=ctx.actor,
        domain=domain,
        sends_mail=not never_sends,
        settings=ctx.runtime.settings,
        resolver=ctx.runtime.resolver(),
        clock=ctx.runtime.clock,
        locale=ctx.locale,
        bimi_logo=bimi_logo,
        bimi_certificate=bimi_certificate,
    )
    return plan_out(plan)


class DomainIn(BaseModel):
    name: str = Field(min_length=3, max_length=253, examples=["example.jp"])
    sends_mail: bool = True


class DomainOut(BaseModel):
    name: str
    sends_mail: bool


class KeyIn(BaseModel):
    type: Literal["rsa", "ed25519"] = "rsa"
    selector: str | None = Field(None, max_length=63)


@router.get("")
def list_domains(ctx: UserContext) -> list[DomainOut]:
    """The organisation's registered domains."""
    with ctx.reading() as session:
        found = services.list_domains(session, org=ctx.org, acting_user=ctx.actor)
        return [DomainOut(name=item.name, sends_mail=item.sends_mail) for item in found]


@router.post("", status_code=201)
def register_domain(body: DomainIn, ctx: UserContext) -> DomainOut:
    """Register a domain the organisation owns, sending or not; the worker checks it daily."""
    with ctx.session.begin():
        domain = services.register_domain(
            ctx.session,
            org=ctx.org,
            name=body.name,
            sends_mail=body.sends_mail,
            acting_user=ctx.actor,
        )
    return DomainOut(name=domain.name, sends_mail=domain.sends_mail)


@router.get("/{domain}/checks")
def check_history(
    domain: str, ctx: UserContext, limit: Annotated[int, Query(ge=1, le=365)] = 30
) -> list[CheckRunOut]:
    """The domain's check runs, newest first, each naming what got worse."""
    with ctx.reading() as session:
        runs = inventory.check_history(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, limit=limit
        )
        return [run_out(run, ctx.locale) for run in runs]


@router.get("/{domain}/checklist")
def bulk_sender_checklist(domain: str, ctx: UserContext) -> list[ChecklistItemOut]:
    """Gmail's, Yahoo's and Outlook's bulk-sender rules with the evidence for each."""
    with ctx.reading() as session:
        detail = overview.domain_detail(session, org=ctx.org, domain=domain, acting_user=ctx.actor)
        return [
            checklist_item_out(item) for item in overview.checklist_for(detail, locale=ctx.locale)
        ]


@router.get("/{domain}/dkim-keys")
def list_keys(domain: str, ctx: UserContext) -> list[DkimKeyOut]:
    with ctx.reading() as session:
        keys = dkim_keys.list_keys(session, org=ctx.org, domain=domain, acting_user=ctx.actor)
        return [key_out(key) for key in keys]


@router.post("/{domain}/dkim-keys", status_code=201)
def generate_key(domain: str, body: KeyIn, ctx: UserContext) -> DkimKeyOut:
    """A new key to publish; it signs only after verification and activation."""
    with ctx.session.begin():
        key = dkim_keys.generate_key(
            ctx.session,
            org=ctx.org,
            domain=domain,
            key_type=body.type,
            secret_key=ctx.runtime.settings.secret_key_bytes(),
            now=ctx.runtime.clock.now(),
            acting_user=ctx.actor,
            selector=body.selector,
        )
        return key_out(key)


@router.post("/{domain}/dkim-keys/{selector}/verify")
async def verify_key(domain: str, selector: str, ctx: UserContext) -> DkimKeyOut:
    """Look the key up in DNS; a key found as generated becomes `published`."""
    key = await dkim_keys.verify_in_dns(
        ctx.runtime.session,
        org=ctx.org,
        domain=domain,
        selector=selector,
        resolver=ctx.runtime.resolver(),
        now=ctx.runtime.clock.now(),
        acting_user=ctx.actor,
    )
    return key_out(key)


@router.post("/{domain}/dkim-keys/{selector}/{transition}")
def change_key(
    domain: str, selector: str, transition: Literal["activate", "revoke"], ctx: UserContext
) -> DkimKeyOut:
    """Activate a verified key (the active one retires) or revoke a retired one."""
    action = dkim_keys.activate_key if transition == "activate" else dkim_keys.revoke_key
    with ctx.session.begin():
        key = action(
            ctx.session,
            org=ctx.org,
            domain=domain,
            selector=selector,
            now=ctx.runtime.clock.now(),
            acting_user=ctx.actor,
        )
        return key_out(key)


@router.post("/test-mail")
async def test_mail(file: UploadFile, ctx: UserContext) -> MessageVerdictOut:
    """Upload a saved message (.eml): SPF, DKIM, ARC and DMARC explained, with the pattern."""
    data = await file.read(MAX_MESSAGE_BYTES + 1)
    verdict = await inspection.verify_message(
        org=ctx.org, acting_user=ctx.actor, data=data, resolver=ctx.runtime.resolver()
    )
    return verdict_out(verdict, ctx.locale)
