"""Read models for the domain pages: the inventory with each domain's latest check, and one
domain's runs, keys and checklist evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, has_permission, require
from todoke.core.errors import NotFound
from todoke.dmarc.posture import domain_readiness
from todoke.domains.checklist import AlignmentEvidence, ChecklistItem, checklist
from todoke.domains.dkim_keys import list_keys
from todoke.domains.inventory import check_history, findings_from_rows
from todoke.domains.message_schemas import MessageVerdictOut
from todoke.domains.models import DkimKey, Domain, DomainCheckRun, TestMailResult
from todoke.domains.services import list_domains, normalise_domain

RUNS_SHOWN = 10


@dataclass(frozen=True)
class InventoryRow:
    name: str
    sends_mail: bool
    status: str | None  # None: never checked
    checked_at: datetime | None
    worse: tuple[str, ...]


@dataclass(frozen=True)
class DomainDetail:
    domain: Domain
    runs: Sequence[DomainCheckRun]
    keys: Sequence[DkimKey]
    alignment: AlignmentEvidence | None


def inventory_rows(
    session: Session, *, org: Organisation, acting_user: Actor
) -> list[InventoryRow]:
    domains = list_domains(session, org=org, acting_user=acting_user)
    latest: dict[int, DomainCheckRun] = {}
    if domains:
        runs = session.scalars(
            select(DomainCheckRun)
            .where(DomainCheckRun.domain_id.in_([d.id for d in domains]))
            .order_by(DomainCheckRun.checked_at, DomainCheckRun.id)
        )
        latest = {run.domain_id: run for run in runs}
    return [
        InventoryRow(
            name=domain.name,
            sends_mail=domain.sends_mail,
            status=latest[domain.id].status if domain.id in latest else None,
            checked_at=latest[domain.id].checked_at if domain.id in latest else None,
            worse=tuple(latest[domain.id].worse) if domain.id in latest else (),
        )
        for domain in domains
    ]


def domain_detail(
    session: Session, *, org: Organisation, domain: str, acting_user: Actor
) -> DomainDetail:
    require(acting_user, "domains.view", org=org)
    name = normalise_domain(domain)
    owner = session.scalar(
        select(Domain).where(Domain.organisation_id == org.id, Domain.name == name)
    )
    if owner is None:
        raise NotFound(f"{name} is not registered")
    runs = check_history(session, org=org, domain=name, acting_user=acting_user, limit=RUNS_SHOWN)
    keys = list_keys(session, org=org, domain=name, acting_user=acting_user)
    alignment = None
    if owner.sends_mail and has_permission(acting_user, "dmarc.view"):
        readiness = domain_readiness(
            session, org=org, domain=name, acting_user=acting_user
        ).readiness
        if readiness.pass_rate_30 is not None:
            messages = readiness.legitimate_messages_30
            alignment = AlignmentEvidence(
                messages=messages, aligned=round(readiness.pass_rate_30 * messages), days=30
            )
    return DomainDetail(domain=owner, runs=runs, keys=keys, alignment=alignment)


def checklist_for(
    detail: DomainDetail, *, locale: str, test_mails: Sequence[TestMailResult] = ()
) -> list[ChecklistItem]:
    """The checklist from the latest run's findings, the reports' alignment figures and the
    newest test mail from the domain (for unsubscribe headers and TLS)."""
    findings = findings_from_rows(detail.runs[0].findings) if detail.runs else []
    mail = next(
        (item for item in test_mails if item.verdict.get("header_from") == detail.domain.name),
        None,
    )
    message = MessageVerdictOut.model_validate(mail.verdict) if mail else None
    return checklist(
        findings,
        locale=locale,
        alignment=detail.alignment,
        message=message,
        received_with_tls=mail.with_tls if mail else None,
    )
