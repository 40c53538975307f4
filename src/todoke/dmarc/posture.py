"""Policy readiness per domain and the inventory of domains seen in reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.dmarc.analyses import (
    SourceView,
    current_answer,
    stored_listed,
)
from todoke.dmarc.analysis import (
    ClassificationKind,
    Readiness,
    SourceSummary,
    assess_readiness,
    organizational_domain,
)
from todoke.dmarc.analysis.texts import as_locale, fill, load, text
from todoke.dmarc.highlights import window_totals
from todoke.dmarc.insights import load_sources
from todoke.dmarc.models import DmarcDayStats, DmarcSourceAnalysis
from todoke.dmarc.queries import latest_policy, reported_domains
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


def policy_published(values: dict[str, object] | None, domain: str) -> PolicyPublished | None:
    """The policy a report quotes (as `dmarc_report.policy` stores it), as readiness reads it;
    the stored monthly digest keeps the stored form and judges when read."""
    return _policy(values, domain)


@dataclass(frozen=True)
class DomainReadiness:
    """The readiness of a domain and what it was judged on."""

    readiness: Readiness
    since: date
    until: date
    #: when the stored analysis it was read from was computed; None when computed live
    computed_at: datetime | None


def _summary(source: SourceView, *, recent: bool) -> SourceSummary:
    return SourceSummary(
        source=source.source_ip,
        kind=source.classification.kind,
        sender=source.sender,
        messages=source.recent_messages if recent else source.messages,
        passing=source.recent_pass if recent else source.dmarc_pass,
        dominant_pattern=source.classification.dominant_pattern,
    )


def _judge(
    domain: str,
    sources: Sequence[SourceView],
    policy: dict[str, Any] | None,
    days: int,
    report_uri: str | None,
) -> Readiness:
    return assess_readiness(
        _policy(policy, domain),
        domain=domain,
        last_14=[_summary(view, recent=True) for view in sources if view.recent_messages],
        last_30=[_summary(view, recent=False) for view in sources],
        days_with_data=days,
        report_uri=report_uri,
    )


def _groups(volumes: dict[str, list[int]]) -> list[SourceSummary]:
    """One summary per kind standing for many sources: readiness only adds them up."""
    return [
        SourceSummary(f"({kind})", cast(ClassificationKind, kind), None, messages, passing)
        for kind, (messages, passing) in sorted(volumes.items())
    ]


def _judge_stored(domain: str, header: DmarcSourceAnalysis, report_uri: str | None) -> Readiness:
    stored = header.readiness
    listed = stored_listed(header)
    return assess_readiness(
        _policy(stored["policy"], domain),
        domain=domain,
        last_14=_groups(stored["recent"]),
        last_30=[*_groups(stored["unlisted"]), *listed],
        days_with_data=int(stored["days_with_data"]),
        report_uri=report_uri,
    )


def domain_readiness(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    report_uri: str | None = None,
    until: date | None = None,
    live: bool = False,
) -> DomainReadiness:
    """How ready `domain` is for a stricter policy, judged on the last 14 and 30 days.

    Up to today it is read from the stored 30-day analysis (computed and stored first if it
    never was; the caller commits to keep it); another end day, or `live`, computes it now.
    """
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    today = clock_of(session).now().date()
    end = until or today
    start = end - timedelta(days=READINESS_WINDOW_DAYS - 1)
    if not live and end == today:
        found = current_answer(
            session, org=org, domain=domain, days=READINESS_WINDOW_DAYS, since=start,
            until=end, dated=until is not None, acting_user=acting_user,
        )  # fmt: skip
        if isinstance(found, DmarcSourceAnalysis):
            answer = _judge_stored(domain, found, report_uri)
            return DomainReadiness(answer, found.since, found.until, found.computed_at)
        answer = _judge(domain, found.sources, found.policy, found.days_with_data, report_uri)
        return DomainReadiness(answer, start, end, found.computed_at)
    recent = end - timedelta(days=RECENT_WINDOW_DAYS - 1)
    sources = load_sources(
        session, org=org, domain=domain, since=start, until=end, recent_since=recent
    )
    days = session.scalar(
        select(func.count()).where(
            DmarcDayStats.organisation_id == org.id,
            DmarcDayStats.domain == domain,
            DmarcDayStats.day >= start,
            DmarcDayStats.day <= end,
        )
    )
    policy = latest_policy(session, org, domain)
    return DomainReadiness(
        _judge(domain, sources, policy, int(days or 0), report_uri), start, end, None
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
    totals: dict[str, list[int]] = {}
    for name in reported_domains(session, org=org, acting_user=acting_user):
        found = window_totals(session, org=org, domain=name, acting_user=acting_user, since=since)
        for header_from, (messages, passing) in found.kept["header_from"].items():
            into = totals.setdefault(header_from, [0, 0])
            into[0] += messages
            into[1] += passing
    rows = [(header_from, messages, passing) for header_from, (messages, passing) in totals.items()]
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


def registration_statuses(
    session: Session, *, org: Organisation, acting_user: Actor, domains: Sequence[str]
) -> dict[str, InventoryStatus]:
    """Whether each domain is registered, a subdomain of a registered one, or unknown: the
    inventory's status without its volumes (no scan of the roll-ups)."""
    require(acting_user, "dmarc.view", org=org)
    registered = set(session.scalars(select(Domain.name).where(Domain.organisation_id == org.id)))
    return {domain: _status(domain, registered) for domain in domains}


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
