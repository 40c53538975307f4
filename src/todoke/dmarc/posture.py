"""Policy readiness per domain and the inventory of domains seen in reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.dmarc.analysis import Readiness, SourceSummary, assess_readiness, organizational_domain
from todoke.dmarc.analysis.texts import as_locale, fill, load, text
from todoke.dmarc.insights import load_sources
from todoke.dmarc.models import DmarcDayStats, DmarcShape, DmarcSourceDay
from todoke.dmarc.queries import latest_policy
from todoke.dmarc.report_types import PolicyPublished
from todoke.domains.models import Domain

READINESS_WINDOW_DAYS = 30
RECENT_WINDOW_DAYS = 14
INVENTORY_FILE = "inventory.toml"


def _policy(values: dict[str, object] | None, domain: str) -> PolicyPublished | None:
    if not values:
        return None
    pct = values.get("pct")
    testing = values.get("testing")
    return PolicyPublished(
        domain=domain,
        p=str(values.get("p", "none")),
        sp=_text(values.get("sp")),
        np=_text(values.get("np")),
        adkim=_text(values.get("adkim")),
        aspf=_text(values.get("aspf")),
        pct=pct if isinstance(pct, int) else None,
        fo=_text(values.get("fo")),
        testing=testing if isinstance(testing, bool) else None,
        discovery_method=_text(values.get("discovery_method")),
        psd=_text(values.get("psd")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def domain_readiness(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    report_uri: str | None = None,
    until: date | None = None,
) -> Readiness:
    """How ready `domain` is for a stricter policy, judged on the last 14 and 30 days."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    end = until or clock_of(session).now().date()
    start = end - timedelta(days=READINESS_WINDOW_DAYS - 1)
    recent = end - timedelta(days=RECENT_WINDOW_DAYS - 1)
    sources = load_sources(
        session, org=org, domain=domain, since=start, until=end, recent_since=recent
    )
    last_30 = [
        SourceSummary(
            source=view.source_ip,
            kind=view.classification.kind,
            sender=view.sender,
            messages=view.messages,
            passing=view.dmarc_pass,
            dominant_pattern=view.classification.dominant_pattern,
        )
        for view in sources
    ]
    last_14 = [
        SourceSummary(
            source=view.source_ip,
            kind=view.classification.kind,
            sender=view.sender,
            messages=view.recent_messages,
            passing=view.recent_pass,
            dominant_pattern=view.classification.dominant_pattern,
        )
        for view in sources
        if view.recent_messages
    ]
    days = session.scalar(
        select(func.count()).where(
            DmarcDayStats.organisation_id == org.id,
            DmarcDayStats.domain == domain,
            DmarcDayStats.day >= start,
            DmarcDayStats.day <= end,
        )
    )
    return assess_readiness(
        _policy(latest_policy(session, org, domain), domain),
        domain=domain,
        last_14=last_14,
        last_30=last_30,
        days_with_data=int(days or 0),
        report_uri=report_uri,
    )


InventoryStatus = Literal["registered", "subdomain", "unregistered"]


@dataclass(frozen=True)
class InventoryEntry:
    """A header-From domain seen in reports, and what the organisation should do about it."""

    domain: str
    organizational_domain: str
    status: InventoryStatus
    messages: int
    dmarc_pass: int
    recommendation: str


def inventory(
    session: Session, *, org: Organisation, acting_user: Actor, locale: str, days: int = 90
) -> list[InventoryEntry]:
    """Every domain seen in the last `days` days with a recommendation (なぜこのドメインが
    レポートされているのか): registered, a subdomain of a registered one, or unknown."""
    require(acting_user, "dmarc.view", org=org)
    since = clock_of(session).now().date() - timedelta(days=days - 1)
    passing = func.sum(
        case(
            (or_(DmarcShape.dkim_aligned, DmarcShape.spf_aligned), DmarcSourceDay.messages),
            else_=0,
        )
    )
    rows = session.execute(
        select(DmarcShape.header_from, func.sum(DmarcSourceDay.messages), passing)
        .join(DmarcShape, DmarcShape.id == DmarcSourceDay.shape_id)
        .where(DmarcSourceDay.organisation_id == org.id, DmarcSourceDay.day >= since)
        .group_by(DmarcShape.header_from)
    ).all()
    registered = set(session.scalars(select(Domain.name).where(Domain.organisation_id == org.id)))
    lang = as_locale(locale)
    texts = load(INVENTORY_FILE)
    entries = []
    for header_from, messages, dmarc_pass in rows:
        status = _status(header_from, registered)
        values = {"domain": header_from, "parent": _registered_parent(header_from, registered)}
        entries.append(
            InventoryEntry(
                domain=header_from,
                organizational_domain=organizational_domain(header_from),
                status=status,
                messages=int(messages or 0),
                dmarc_pass=int(dmarc_pass or 0),
                recommendation=fill(text(texts, status, lang), values, {}),
            )
        )
    entries.sort(key=lambda entry: (entry.status != "unregistered", -entry.messages))
    return entries


def _registered_parent(domain: str, registered: set[str]) -> str:
    labels = domain.split(".")
    for index in range(1, len(labels) - 1):
        parent = ".".join(labels[index:])
        if parent in registered:
            return parent
    return ""


def _status(domain: str, registered: set[str]) -> InventoryStatus:
    if domain in registered:
        return "registered"
    return "subdomain" if _registered_parent(domain, registered) else "unregistered"
