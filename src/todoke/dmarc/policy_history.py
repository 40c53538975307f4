"""The DMARC policies reporters quoted for a domain over time: the history of its record as the
receivers saw it (`policy_published` of each aggregate report).

One grouped query over `ix_dmarc_report_org_domain_end` gives each distinct stored policy per
reporter (a few dozen rows, whatever the number of reports); they are merged here on the tags
that describe the record, so a reporter adding `discovery_method` (RFC 9990) or quoting the same
record in another key order is no change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc.models import DmarcReport

__all__ = ["RECORD_KEYS", "PolicySeen", "policy_history"]

#: the keys of a stored policy that are tags of the record (RFC 7489 §6.3, RFC 9990)
RECORD_KEYS = ("p", "sp", "np", "adkim", "aspf", "pct", "fo", "testing", "psd")


@dataclass(frozen=True)
class PolicySeen:
    """One published policy and when reports quoted it (the days their records count for)."""

    #: the record's tags as reports quote them (`RECORD_KEYS` only, absent tags left out)
    policy: dict[str, Any]
    first_seen: date
    last_seen: date
    reports: int
    reporters: int


@dataclass
class _Tally:
    first: date
    last: date
    reports: int = 0
    reporters: set[str] = field(default_factory=set)


def record_of(policy: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """What identifies a published record in a stored policy, in tag order."""
    policy = policy or {}
    return tuple((key, policy[key]) for key in RECORD_KEYS if policy.get(key) not in (None, ""))


def policy_history(
    session: Session, *, org: Organisation, domain: str, acting_user: Actor
) -> list[PolicySeen]:
    """Each distinct policy reporters quoted for `domain`, the one quoted last first (ties: the
    one that appeared last); consecutive rows are the changes of the record."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    report = DmarcReport
    rows = session.execute(
        select(
            report.policy,
            report.reporter_org,
            func.min(report.begin_at),
            func.max(report.begin_at),
            func.count(),
        )
        .where(report.organisation_id == org.id, report.domain == domain)
        .group_by(report.policy, report.reporter_org)
    ).all()
    seen: dict[tuple[tuple[str, Any], ...], _Tally] = {}
    for policy, reporter, first, last, reports in rows:
        tally = seen.setdefault(record_of(policy), _Tally(first.date(), last.date()))
        tally.first = min(tally.first, first.date())
        tally.last = max(tally.last, last.date())
        tally.reports += int(reports)
        tally.reporters.add(reporter)
    found = [
        PolicySeen(dict(key), tally.first, tally.last, tally.reports, len(tally.reporters))
        for key, tally in seen.items()
    ]
    return sorted(
        found, key=lambda entry: (entry.last_seen, entry.first_seen, entry.reports), reverse=True
    )
