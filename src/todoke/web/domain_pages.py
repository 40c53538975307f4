"""Domain pages: the inventory, one domain's checks, records, keys and checklist, test mail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from todoke.core.errors import TodokeError
from todoke.domains import dkim_keys, inspection, overview, services, test_inbox
from todoke.domains.checks.findings import SECTIONS
from todoke.domains.checks.options import options_from
from todoke.domains.message_check import MAX_MESSAGE_BYTES
from todoke.domains.message_schemas import MessageVerdictOut, verdict_out
from todoke.domains.record_schemas import plan_out
from todoke.domains.schemas import key_out, run_out
from todoke.domains.services import normalise_domain
from todoke.web.context import UserContext, check_csrf
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


@router.get("/domains")
def domain_list(ctx: UserContext, error: str | None = None) -> Response:
    with ctx.reading() as session:
        rows = overview.inventory_rows(session, org=ctx.org, acting_user=ctx.actor)
    return render(ctx, "domains/list.html", rows=rows, error=error, name="")


@router.post("/domains")
def register(
    ctx: UserContext,
    name: Annotated[str, Form(max_length=253)],
    sends_mail: Annotated[str, Form()] = "yes",
) -> Response:
    try:
        with ctx.session.begin():
            domain = services.register_domain(
                ctx.session,
                org=ctx.org,
                name=name,
                sends_mail=sends_mail == "yes",
                acting_user=ctx.actor,
            )
            target = f"/domains/{domain.name}"
    except TodokeError as error:
        with ctx.reading() as session:
            rows = overview.inventory_rows(session, org=ctx.org, acting_user=ctx.actor)
        return render(
            ctx,
            "domains/list.html",
            status_code=error.http_status,
            rows=rows,
            error=error.message,
            name=name,
        )
    return _back(target)


@router.get("/domains/{name}")
def domain_detail(ctx: UserContext, name: str) -> Response:
    with ctx.reading() as session:
        detail = overview.domain_detail(session, org=ctx.org, domain=name, acting_user=ctx.actor)
        runs = [run_out(run, ctx.locale) for run in detail.runs]
        keys = [key_out(key) for key in detail.keys]
        mails = test_inbox.latest_results(session, user=ctx.actor)
        checklist = overview.checklist_for(detail, locale=ctx.locale, test_mails=mails)
    return render(
        ctx,
        "domains/detail.html",
        domain=detail.domain,
        runs=runs,
        keys=keys,
        sections=SECTIONS,
        checklist=checklist,
    )


@router.post("/domains/{name}/check")
async def run_check(ctx: UserContext, name: str) -> Response:
    await inspection.check_registered(
        ctx.runtime.session,
        org=ctx.org,
        acting_user=ctx.actor,
        domain=name,
        settings=ctx.runtime.settings,
        resolver=ctx.runtime.resolver(),
    )
    return _back(f"/domains/{normalise_domain(name)}#findings")


#: the logo may style itself inline, nothing else; sandbox keeps it inert even if opened alone
LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.get("/domains/{name}/bimi-logo.svg")
async def bimi_logo(ctx: UserContext, name: str) -> Response:
    logo = await inspection.bimi_logo(
        ctx.runtime.session,
        org=ctx.org,
        acting_user=ctx.actor,
        domain=name,
        resolver=ctx.runtime.resolver(),
        https=options_from(ctx.runtime.settings).https,
    )
    if logo is None:
        return Response(status_code=404)
    headers = {"Content-Security-Policy": LOGO_POLICY, "Cache-Control": "private, max-age=300"}
    return Response(logo, media_type="image/svg+xml", headers=headers)


@router.get("/domains/{name}/records")
async def records(ctx: UserContext, name: str) -> Response:
    with ctx.reading() as session:
        detail = overview.domain_detail(session, org=ctx.org, domain=name, acting_user=ctx.actor)
    plan = await inspection.records_for(
        org=ctx.org,
        acting_user=ctx.actor,
        domain=name,
        sends_mail=detail.domain.sends_mail,
        settings=ctx.runtime.settings,
        resolver=ctx.runtime.resolver(),
        clock=ctx.runtime.clock,
        locale=ctx.locale,
    )
    return render(ctx, "domains/records.html", domain=detail.domain, plan=plan_out(plan))


@router.post("/domains/{name}/keys")
def generate_key(
    ctx: UserContext, name: str, key_type: Annotated[Literal["rsa", "ed25519"], Form()] = "rsa"
) -> Response:
    with ctx.session.begin():
        dkim_keys.generate_key(
            ctx.session,
            org=ctx.org,
            domain=name,
            key_type=key_type,
            secret_key=ctx.runtime.settings.secret_key_bytes(),
            now=ctx.runtime.clock.now(),
            acting_user=ctx.actor,
        )
    return _back(f"/domains/{normalise_domain(name)}#keys")


@router.post("/domains/{name}/keys/{selector}/{transition}")
async def change_key(
    ctx: UserContext,
    name: str,
    selector: str,
    transition: Literal["verify", "activate", "revoke"],
) -> Response:
    domain = normalise_domain(name)
    if transition == "verify":
        await dkim_keys.verify_in_dns(
            ctx.runtime.session,
            org=ctx.org,
            domain=domain,
            selector=selector,
            resolver=ctx.runtime.resolver(),
            now=ctx.runtime.clock.now(),
            acting_user=ctx.actor,
        )
    else:
        action = dkim_keys.activate_key if transition == "activate" else dkim_keys.revoke_key
        with ctx.session.begin():
            action(
                ctx.session,
                org=ctx.org,
                domain=domain,
                selector=selector,
                now=ctx.runtime.clock.now(),
                acting_user=ctx.actor,
            )
    return _back(f"/domains/{domain}#keys")


def _test_mail_page(
    ctx: UserContext, *, verdict: MessageVerdictOut | None, error: str | None, status: int = 200
) -> Response:
    settings = ctx.runtime.settings
    address = test_inbox.inbox_address(
        ctx.actor.id,
        secret_key=settings.secret_key_bytes(),
        receiver_domain=settings.receiver_domain,
    )
    with ctx.reading() as session:
        received = [
            (item.received_at, MessageVerdictOut.model_validate(item.verdict))
            for item in test_inbox.latest_results(session, user=ctx.actor)
        ]
    return render(
        ctx,
        "domains/test_mail.html",
        status_code=status,
        verdict=verdict,
        error=error,
        address=address,
        received=received,
    )


@router.get("/test-mail")
def test_mail_form(ctx: UserContext) -> Response:
    return _test_mail_page(ctx, verdict=None, error=None)


@router.post("/test-mail")
async def test_mail(ctx: UserContext, file: UploadFile) -> Response:
    data = await file.read(MAX_MESSAGE_BYTES + 1)
    try:
        verdict = await inspection.verify_message(
            org=ctx.org, acting_user=ctx.actor, data=data, resolver=ctx.runtime.resolver()
        )
    except TodokeError as error:
        return _test_mail_page(ctx, verdict=None, error=error.message, status=error.http_status)
    return _test_mail_page(ctx, verdict=verdict_out(verdict, ctx.locale), error=None)
