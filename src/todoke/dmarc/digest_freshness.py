"""When a stored monthly digest no longer matches its data, derived from stored data only.

A digest remembers what it saw (`DmarcMonthDigest`), as a stored analysis does
(`analyses.freshness.Watermark`), with one difference: its reports are only those *beginning on
the days it reads* (the month, the month before, the readiness window; a report counts towards
the UTC day it begins on, like the roll-ups). A domain-wide mark would make last month's digest
stale with every report of the running month, and a big domain's costs seconds to recompute.

Its other inputs are the registered sources and the sender catalogue (`inputs_digest`), the
policy the domain's newest report quotes (the digest shows it, whichever month it is from) and
`DIGEST_VERSION`. Identification is the newest `identified_at` of the organisation's sources:
a digest is stale once an address seen on its days (by first and last sighting, for any domain
of the organisation: a superset, at no cost of a scan) was identified after it was computed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.dmarc.analyses import Watermark
from todoke.dmarc.analyses.freshness import inputs_digest
from todoke.dmarc.digest_data import MonthPeriod
from todoke.dmarc.identify import Catalogue
from todoke.dmarc.models import DmarcMonthDigest, DmarcReport, DmarcSource
from todoke.dmarc.queries import latest_policy

#: Bump when what a digest holds or how it is computed changes.
DIGEST_VERSION: Final = 1

DigestStaleReason = Literal["never", "day", "reports", "inputs", "identification"]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def month_watermark(
    session: Session, *, org: Organisation, domain: str, period: MonthPeriod, catalogue: Catalogue
) -> Watermark:
    """What a digest of `period` computed now would see."""
    start, end = _midnight(period.first_day), _midnight(period.until + timedelta(days=1))
    report = DmarcReport
    newest, count = session.execute(
        select(func.max(report.id), func.count()).where(
            report.organisation_id == org.id,
            report.domain == domain,
            # A report ends after it begins: this bound lets the (domain, end_at) index
            # narrow the scan to the reports that can begin on the digest's days.
            report.end_at >= start,
            report.begin_at >= start,
            report.begin_at < end,
        )
    ).one()
    identified = session.scalar(
        select(func.max(DmarcSource.identified_at)).where(DmarcSource.organisation_id == org.id)
    )
    policy = latest_policy(session, org, domain)
    text = json.dumps(
        [DIGEST_VERSION, inputs_digest(session, org.id, catalogue), policy],
        ensure_ascii=False,
        sort_keys=True,
    )
    return Watermark(
        report_max_id=int(newest or 0),
        report_count=int(count or 0),
        identified_until=identified,
        inputs_digest=hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(),
    )


def stale_reason(
    session: Session, row: DmarcMonthDigest | None, watermark: Watermark, period: MonthPeriod
) -> DigestStaleReason | None:
    """Why `row` must be recomputed to answer `period`, or None when it is current."""
    if row is None:
        return "never"
    if row.until != period.until:
        return "day"
    if (row.report_max_id, row.report_count) != (watermark.report_max_id, watermark.report_count):
        return "reports"
    if row.inputs_digest != watermark.inputs_digest:
        return "inputs"
    if _identified_since(session, row, watermark, period):
        return "identification"
    return None


def _identified_since(
    session: Session, row: DmarcMonthDigest, watermark: Watermark, period: MonthPeriod
) -> bool:
    newest = watermark.identified_until
    if newest is None or (row.identified_until is not None and newest <= row.identified_until):
        return False
    source = DmarcSource
    query = select(source.source_ip).where(
        source.organisation_id == row.organisation_id,
        source.last_seen >= period.first_day,
        source.first_seen <= period.until,
    )
    if row.identified_until is not None:
        query = query.where(source.identified_at > row.identified_until)
    else:
        query = query.where(source.identified_at.is_not(None))
    return session.execute(query.limit(1)).first() is not None
