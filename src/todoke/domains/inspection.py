"""Check a domain and plan its records for a user: the permission, then the DNS work.

Both only read DNS; nothing is stored (the inventory's scheduled checks keep history), so no
audit event is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dns.asyncresolver
from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.clock import Clock
from todoke.core.errors import NotFound
from todoke.domains.bimi import sanitised_svg
from todoke.domains.checks import DomainCheck, check_domain
from todoke.domains.checks.context import HttpsOptions
from todoke.domains.checks.https_fetch import FetchError, fetch
from todoke.domains.checks.options import options_from
from todoke.domains.inventory import check_history, record_check
from todoke.domains.message_check import Envelope, MessageVerdict, check_message
from todoke.domains.models import Domain
from todoke.domains.records import RecordPlan, plan_records, profile_from
from todoke.domains.services import normalise_domain
from todoke.domains.spf.lookup import DnsCache
from todoke.settings import Settings


async def inspect_domain(
    *,
    org: Organisation,
    acting_user: Actor,
    domain: str,
    selectors: Sequence[str],
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
) -> DomainCheck:
    require(acting_user, "domains.view", org=org)
    options = options_from(settings, selectors=tuple(selectors))
    return await check_domain(normalise_domain(domain), resolver=resolver, options=options)


async def records_for(
    *,
    org: Organisation,
    acting_user: Actor,
    domain: str,
    sends_mail: bool,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    clock: Clock,
    locale: str,
    bimi_logo: str | None = None,
    bimi_certificate: str | None = None,
) -> RecordPlan:
    require(acting_user, "domains.view", org=org)
    profile = profile_from(settings, bimi_logo=bimi_logo, bimi_certificate=bimi_certificate)
    return await plan_records(
        normalise_domain(domain),
        dns=DnsCache(resolver),
        sends_mail=sends_mail,
        profile=profile,
        locale=locale,
        now=clock.now(),
    )


async def verify_message(
    *,
    org: Organisation,
    acting_user: Actor,
    data: bytes,
    resolver: dns.asyncresolver.Resolver,
    envelope: Envelope | None = None,
) -> MessageVerdict:
    """The test-mail check of an uploaded message (the envelope read from its headers)."""
    require(acting_user, "domains.view", org=org)
    return await check_message(data, resolver=resolver, envelope=envelope)


async def check_registered(
    sessions: Callable[[], Session],
    *,
    org: Organisation,
    acting_user: Actor,
    domain: str,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
) -> int:
    """Check a registered domain now and keep the run in its history; the run's id."""
    require(acting_user, "domains.view", org=org)
    name = normalise_domain(domain)
    with sessions() as session:
        registered = session.scalar(
            select(Domain.id).where(Domain.organisation_id == org.id, Domain.name == name)
        )
    if registered is None:
        raise NotFound(f"{name} is not registered")
    result = await check_domain(name, resolver=resolver, options=options_from(settings))
    with sessions() as session, session.begin():
        owner = session.get(Domain, registered)
        if owner is None:
            raise NotFound(f"{name} was removed while it was being checked")
        run = record_check(
            session, domain=owner, result=result, trigger="user", acting_user=acting_user
        )
        return run.id


async def bimi_logo(
    sessions: Callable[[], Session],
    *,
    org: Organisation,
    acting_user: Actor,
    domain: str,
    resolver: dns.asyncresolver.Resolver,
    https: HttpsOptions,
) -> bytes | None:
    """The domain's BIMI logo, sanitised, if the latest check found a valid one; else None.

    Only a logo the check judged valid (`bimi.svg_ok`) is fetched again, and what is served is
    rebuilt from an allow-list of SVG elements and attributes, never the bytes as fetched.
    """
    require(acting_user, "domains.view", org=org)
    name = normalise_domain(domain)
    with sessions() as session:
        runs = check_history(session, org=org, domain=name, acting_user=acting_user, limit=1)
        found = [row for row in runs[0].findings if row["id"] == "bimi.svg_ok"] if runs else []
    url = found[0].get("values", {}).get("url") if found else None
    if not isinstance(url, str):
        return None
    try:
        fetched = await fetch(DnsCache(resolver), https, url)
    except FetchError:
        return None
    return sanitised_svg(fetched.body)
